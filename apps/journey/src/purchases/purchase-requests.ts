import { purchaseStatuses } from '@gancho/contracts';
import { z } from 'zod';
import { purchaseIdPattern } from '../platform/ids';

// Text that PostgreSQL cannot store (U+0000, lone surrogates) is refused for every field at the edge (refuseUnstorableText).
const personText = z.string().trim().min(1).max(200);

const identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

/** No course costs more than a million in its currency: a bigger price is a unit mistake (reais for centavos). */
const maxPriceCents = 100_000_000;
/** The ISO 4217 codes the runtime knows (ICU's list), e.g. BRL, USD, EUR; "NLX" is none. */
const isoCurrencies = new Set(Intl.supportedValuesOf('currency'));

export const openPurchaseBody = z.strictObject({
  purchase_id: z.string().regex(purchaseIdPattern, 'pur_ followed by 32 hex digits').optional().describe('Optional; generated when absent.'),
  partner_id: identifier,
  course: z.strictObject({
    id: identifier,
    name: personText,
    price_cents: z.number().int().min(0).max(maxPriceCents, 'at most 100000000 (1,000,000.00 in the currency)').describe('Integer minor units (centavos for BRL), at most 1,000,000.00.'),
    currency: z
      .string()
      .refine((code) => isoCurrencies.has(code), 'an ISO 4217 currency code, e.g. BRL')
      .describe('ISO 4217 currency code, upper case, e.g. BRL.'),
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

/** The request example of the API document: what a Brazilian checkout sends. */
export const openPurchaseExample: z.input<typeof openPurchaseBody> = {
  partner_id: 'ptn_01JDZ7K2M3N4P5Q6R7S8T9V0WX',
  course: { id: 'crs_ciencia_dados_2026', name: 'Ciência de Dados do Zero', price_cents: 1_234_500, currency: 'BRL' },
  student: { name: 'Ana Souza', email: 'ana.souza@example.com.br' },
  student_logged_in: true,
};
