import type { EntityManager } from 'typeorm';
import { phaseOf, type Phase, type PurchaseStatus } from '@gancho/contracts';
import type { Purchase } from '@gancho/purchase-domain';

/** A purchase as the API shows it (snake_case, like the webhook payload). */
export interface PurchaseView {
  purchase_id: string;
  partner_id: string;
  status: PurchaseStatus;
  previous_status: PurchaseStatus | null;
  phase: Phase;
  version: number;
  course: { id: string; name: string; price_cents: number; currency: string };
  student: { name: string; email: string };
  opened_at: string;
  status_changed_at: string;
  last_activity_at: string;
}

export function purchaseView(purchase: Purchase, previousStatus: PurchaseStatus | null): PurchaseView {
  return {
    purchase_id: purchase.purchaseId,
    partner_id: purchase.partnerId,
    status: purchase.status,
    previous_status: previousStatus,
    phase: phaseOf(purchase.status),
    version: purchase.version,
    course: { id: purchase.course.id, name: purchase.course.name, price_cents: purchase.course.priceCents, currency: purchase.course.currency },
    student: { name: purchase.student.name, email: purchase.student.email },
    opened_at: purchase.openedAt,
    status_changed_at: purchase.statusChangedAt,
    last_activity_at: purchase.lastActivityAt,
  };
}

/**
 * The statement that writes the purchase's row, when `condition` holds (SQL);
 * an older version never overwrites a newer one.
 */
export function projectionStatement(view: PurchaseView, condition = 'true'): { sql: string; parameters: unknown[] } {
  return {
    sql: `INSERT INTO purchases (purchase_id, partner_id, status, previous_status, phase, course, student, version, opened_at, status_changed_at, last_activity_at)
     SELECT $1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::int, $9::timestamptz, $10::timestamptz, $11::timestamptz WHERE ${condition}
     ON CONFLICT (purchase_id) DO UPDATE SET
       status = EXCLUDED.status, previous_status = EXCLUDED.previous_status, phase = EXCLUDED.phase,
       version = EXCLUDED.version, status_changed_at = EXCLUDED.status_changed_at, last_activity_at = EXCLUDED.last_activity_at
     WHERE purchases.version < EXCLUDED.version`,
    parameters: [
      view.purchase_id,
      view.partner_id,
      view.status,
      view.previous_status,
      view.phase,
      JSON.stringify(view.course),
      JSON.stringify(view.student),
      view.version,
      view.opened_at,
      view.status_changed_at,
      view.last_activity_at,
    ],
  };
}

interface PurchaseRow {
  purchase_id: string;
  partner_id: string;
  status: PurchaseStatus;
  previous_status: PurchaseStatus | null;
  phase: Phase;
  version: number;
  course: PurchaseView['course'];
  student: PurchaseView['student'];
  opened_at: Date;
  status_changed_at: Date;
  last_activity_at: Date;
}

export function viewOfRow(row: PurchaseRow): PurchaseView {
  return {
    ...row,
    opened_at: row.opened_at.toISOString(),
    status_changed_at: row.status_changed_at.toISOString(),
    last_activity_at: row.last_activity_at.toISOString(),
  };
}

export interface PurchaseListQuery {
  partnerId?: string;
  status?: PurchaseStatus;
  /** The last purchase id of the previous page. */
  after?: string;
  limit: number;
}

/** Newest first is not needed by callers; id order is creation order (ids are time-ordered) and stable under inserts. */
export async function listPurchases(manager: EntityManager, query: PurchaseListQuery): Promise<{ items: PurchaseView[]; nextCursor: string | null }> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.partnerId) conditions.push(`partner_id = $${params.push(query.partnerId)}`);
  if (query.status) conditions.push(`status = $${params.push(query.status)}`);
  if (query.after) conditions.push(`purchase_id > $${params.push(query.after)}`);
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  const rows: PurchaseRow[] = await manager.query(`SELECT * FROM purchases ${where} ORDER BY purchase_id LIMIT $${params.push(query.limit + 1)}`, params);
  const page = rows.slice(0, query.limit);
  return { items: page.map(viewOfRow), nextCursor: rows.length > query.limit ? (page.at(-1)?.purchase_id ?? null) : null };
}
