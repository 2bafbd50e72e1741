import path from 'node:path';
import { createTestDatabase, uniqueName, type TestDatabase } from '@gancho/testing';
import { describeEventTransportContract } from '../transport-contract/transport-contract';
import { PostgresTransport, type PostgresTransportOptions } from './postgres-transport';

// The shared behavioural suite (transport-contract.ts) on the PostgreSQL log,
// in a database of its own, with waits short enough to keep it quick.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('messaging_pg_contract');
});

const quick = (): PostgresTransportOptions => ({
  connectionString: database.url,
  clientId: uniqueName('contract'),
  pollIntervalMs: 200,
  rebalanceIntervalMs: 150,
  redeliveryBackoffMs: { initial: 50, max: 400 },
});

describeEventTransportContract('PostgresTransport', () => new PostgresTransport(quick()), {
  childTransport: () => ({ modulePath: path.join(__dirname, 'postgres-transport.ts'), exportName: 'PostgresTransport', options: { ...quick() } }),
  cleanup: () => database.drop(),
});
