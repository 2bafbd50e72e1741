import { purchaseStatuses } from '@gancho/contracts';
import { z } from 'zod';
import { purchaseIdPattern } from '../platform/ids';

/** PostgreSQL's jsonb cannot hold U+0000: refuse it at the edge (400) rather than fail at the insert (500). */
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
export const withoutNul = /^[^\u0000]*$/;
const personText = z.string().trim().min(1).max(200).regex(withoutNul, 'must not contain U+0000');

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
