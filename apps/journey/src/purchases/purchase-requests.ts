import { purchaseStatuses } from '@gancho/contracts';
import { z } from 'zod';
import { purchaseIdPattern } from '../platform/ids';

// Text that PostgreSQL cannot store (U+0000, lone surrogates) is refused for every field at the edge (refuseUnstorableText).
const personText = z.string().trim().min(1).max(200);

const identifier = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

export const openPurchaseBody = z.strictObject({
  purchase_id: z.string().regex(purchaseIdPattern, 'pur_ followed by 32 hex digits').optional().describe('Optional; generated when absent.'),
  partner_id: identifier,
  course: z.strictObject({
    id: identifier,
    name: personText,
    price_cents: z.number().int().min(0).max(1_000_000_000_00),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. BRL'),
  }),
  student: z.strictObject({
    name: personText,
    email: z.email().max(254),
  }),
  student_logged_in: z.boolean().default(true),
});

export type OpenPurchaseBody = z.infer<typeof openPurchaseBody>;

export const listPurchasesQuery = z.strictObject({
  partner_id: identifier.optional(),
  status: z.enum(purchaseStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(purchaseIdPattern).optional(),
});
