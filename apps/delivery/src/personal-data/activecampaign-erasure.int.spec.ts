import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  cloudEventSources,
  cloudEventTypes,
  defaultActiveCampaignMapping,
  endpointDestinationSecretContext,
  endpointSecretContext,
  toCloudEventsRecord,
  type ActiveCampaignErasure,
  type EndpointStateV1,
} from '@gancho/contracts';
import { ActiveCampaignFake, createTestDatabase, eventually, uniqueName, type TestDatabase, type TestService } from '@gancho/testing';
import { generateSecret } from '@gancho/webhook-signing';
import { purchaseId, routesVersion, secretBox, startDelivery, SubscriptionsStandIn, testTopics } from '../testing/delivery-test-kit';
import { JourneyStandIn, TestSubject } from '../testing/personal-data-kit';

// Scenarios (real broker, PostgreSQL and two local ActiveCampaign accounts):
// - v2 status events sync each student's contact in both accounts; delivery remembers the AC contact id per subject.
// - The student's erasure deletes the contact by that id (DELETE /api/3/contacts/{id}) in the account configured
//   with on_erasure: "delete", and only that student's; the account configured to keep it sees no deletion.
describe('a student erased at ActiveCampaign', () => {
  const token = 'ac-erasure-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
  const deleting = new ActiveCampaignFake({ tokens: [token] });
  const keeping = new ActiveCampaignFake({ tokens: [token] });
  const topics = testTopics();
  const standIn = new SubscriptionsStandIn(topics);
  const journey = new JourneyStandIn(standIn.transport, topics);
  let database: TestDatabase;
  let delivery: TestService;
  let db: pg.Client;
  const partnerId = uniqueName('ptn');
  const ana = new TestSubject({ name: 'Ana Bezerra', email: 'ana.bezerra@example.com' });
  const bia = new TestSubject({ name: 'Bia Fontes', email: 'bia.fontes@example.com' });

  const putActiveCampaignEndpoint = async (fake: ActiveCampaignFake, onErasure: ActiveCampaignErasure | undefined): Promise<string> => {
    const endpointId = `ep_${randomBytes(8).toString('hex')}`;
    const now = new Date().toISOString();
    const state: EndpointStateV1 = {
      endpoint_id: endpointId,
      partner_id: partnerId,
      url: fake.apiUrl,
      destination: {
        type: 'activecampaign',
        api_url: fake.apiUrl,
        api_token_sealed: secretBox.seal(token, endpointDestinationSecretContext(endpointId)),
        mapping: defaultActiveCampaignMapping(),
        ...(onErasure ? { on_erasure: onErasure } : {}),
      },
      description: 'ActiveCampaign',
      event_types: ['purchase.*'],
      enabled: true,
      disabled_reason: null,
      disabled_detail: null,
      headers: {},
      rate_limit_per_second: null,
      ordering: 'none',
      signing_secrets: [{ sealed: secretBox.seal(generateSecret(randomBytes), endpointSecretContext(endpointId)), valid_from: now, valid_until: null }],
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await standIn.transport.publish(topics.ENDPOINTS_TOPIC, [{ key: endpointId, value: JSON.stringify(state) }]);
    return endpointId;
  };

  beforeAll(async () => {
    database = await createTestDatabase('ac_erasure');
    await Promise.all([deleting.start(), keeping.start()]);
    await standIn.createTopics();
    delivery = await startDelivery(database.url, topics, [deleting.host, keeping.host], { RETRY_SCHEDULE: '0s,1s,1s,1s' });
    const ids = [await putActiveCampaignEndpoint(deleting, 'delete'), await putActiveCampaignEndpoint(keeping, undefined)];
    for (const id of ids) await routesVersion(delivery, id, 1);
    db = new pg.Client({ connectionString: database.url, options: '-c search_path=delivery' });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await delivery?.close();
    await standIn.close();
    await Promise.all([deleting.stop(), keeping.stop()]);
    await database?.drop();
  });

  it('deletes the erased student’s contact by its id where configured, and nobody else’s', async () => {
    await Promise.all([journey.publishKey(ana), journey.publishKey(bia)]);
    await journey.publishStatus(partnerId, 'shopping_cart_created', ana, { purchase_id: purchaseId(21), sequence: 1, previous_status: null });
    await journey.publishStatus(partnerId, 'shopping_cart_created', bia, { purchase_id: purchaseId(22), sequence: 1, previous_status: null });
    for (const fake of [deleting, keeping]) {
      await eventually(() => expect(fake.contacts.map((c) => c.email).sort()).toEqual([ana.student.email, bia.student.email]));
    }
    // Each sync is an attempt of several calls; the contact id is remembered when it has settled.
    await eventually(async () => expect((await db.query("SELECT 1 FROM messages WHERE status = 'succeeded'")).rowCount).toBe(4));
    const anaContact = deleting.contact(ana.student.email)!.id;

    const erasedAt = new Date().toISOString();
    const erasureId = `era_${randomBytes(16).toString('hex')}`;
    await journey.publishKeyTombstone(ana);
    await standIn.transport.publish(topics.PERSONAL_DATA_ERASURES_TOPIC, [
      toCloudEventsRecord({
        id: erasureId,
        type: cloudEventTypes.personalDataErasure,
        source: cloudEventSources.journey,
        time: erasedAt,
        subject: ana.subjectId,
        data: { erasure_id: erasureId, subject_id: ana.subjectId, purchases: [{ purchase_id: purchaseId(21), partner_id: partnerId }], erased_at: erasedAt },
      }),
    ]);

    await eventually(() => expect(deleting.deletedContacts).toEqual([anaContact]));
    expect(deleting.contact(ana.student.email)).toBeUndefined();
    expect(deleting.contact(bia.student.email)).toBeDefined();
    expect(deleting.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/api/3/contacts/${anaContact}`]);
    // The account that keeps contacts is not asked to delete anything.
    expect(keeping.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(keeping.contact(ana.student.email)).toBeDefined();
  });
  it('deletes a contact whose sync finished after the student’s erasure was processed (the erasure found no contact id yet)', async () => {
    const caio = new TestSubject({ name: 'Caio Prado', email: 'caio.prado@example.com' });
    await journey.publishKey(caio);
    await eventually(async () => expect((await db.query('SELECT 1 FROM subject_keys WHERE subject_id = $1', [caio.subjectId])).rowCount).toBe(1));
    // What a sync in flight meets when it settles: delivery has already processed the subject's erasure.
    await db.query('INSERT INTO erased_subjects (subject_id) VALUES ($1)', [caio.subjectId]);
    const deletedBefore = deleting.deletedContacts.length;
    await journey.publishStatus(partnerId, 'shopping_cart_created', caio, { purchase_id: purchaseId(23), sequence: 1, previous_status: null });
    await eventually(() => expect(keeping.contact(caio.student.email)).toBeDefined());
    await eventually(() => expect(deleting.deletedContacts).toHaveLength(deletedBefore + 1));
    expect(deleting.contact(caio.student.email)).toBeUndefined();
    // Only the keeping account's contact id is left for the subject.
    expect((await db.query('SELECT endpoint_id FROM activecampaign_contacts WHERE subject_id = $1', [caio.subjectId])).rowCount).toBe(1);
    // The account that keeps contacts keeps this one too.
    expect(keeping.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });
});
