// `npm run infra:down`: stops what infra:up started. Safe to run twice.
// Data stays under .infra/ (pass --wipe to delete the broker's log as well).
import { stopKafka } from './kafka.mts';
import { stopPostgres } from './postgres.mts';

export async function infraDown({ wipe = false } = {}): Promise<void> {
  await Promise.all([stopKafka({ wipe }), stopPostgres()]);
}

if (import.meta.main) {
  await infraDown({ wipe: process.argv.includes('--wipe') });
  process.stdout.write('infra down\n');
}
