import type { DataSource } from 'typeorm';
import { queryRows } from '@gancho/persistence';

/**
 * The ActiveCampaign contact id delivery synced per (endpoint, subject)
 * (`activecampaign_contacts`): an account's id and a pseudonymous subject id,
 * no personal data. A student's erasure deletes the contact by it.
 */
export class ActiveCampaignContacts {
  constructor(private readonly dataSource: DataSource) {}

  async remember(endpointId: string, subjectId: string, contactId: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO activecampaign_contacts (endpoint_id, subject_id, contact_id) VALUES ($1, $2, $3)
       ON CONFLICT (endpoint_id, subject_id, contact_id) DO NOTHING`,
      [endpointId, subjectId, contactId],
    );
  }

  async of(endpointId: string, subjectId: string): Promise<string[]> {
    const rows = await queryRows<{ contact_id: string }>(this.dataSource, 'SELECT contact_id FROM activecampaign_contacts WHERE endpoint_id = $1 AND subject_id = $2 ORDER BY contact_id', [endpointId, subjectId]);
    return rows.map((r) => r.contact_id);
  }

  /** Whether delivery has processed the subject's erasure (its `erased_subjects` row). */
  async isErased(subjectId: string): Promise<boolean> {
    return (await queryRows(this.dataSource, 'SELECT 1 FROM erased_subjects WHERE subject_id = $1', [subjectId])).length > 0;
  }

  async forget(endpointId: string, subjectId: string): Promise<void> {
    await this.dataSource.query('DELETE FROM activecampaign_contacts WHERE endpoint_id = $1 AND subject_id = $2', [endpointId, subjectId]);
  }
}
