import { z } from 'zod';
import { idPattern } from '../platform/ids';

export const createPartnerBody = z.strictObject({
  name: z.string().trim().min(1).max(200).describe('The school’s name, as Gancho’s operators know it.'),
});
export type CreatePartnerBody = z.infer<typeof createPartnerBody>;

/** `limit` (1–100, default 20) and the `cursor` a previous page returned. */
export const pageQuery = (prefix: 'ptn' | 'ep') =>
  z.strictObject({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().regex(idPattern(prefix), 'not a cursor this API returned').optional(),
  });
