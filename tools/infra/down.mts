// `npm run infra:down`: stops what infra:up started. Safe to run twice.
// Data stays under .infra/ (pass --wipe to delete the broker's log as well).
import { stopKafka } from './kafka.mts';
import { stopPostgres } from './postgres.mts';

export async function infraDown({ postgres = true, kafka = true, wipe = false } = {}): Promise<void> {
  await Promise.all([kafka ? stopKafka({ wipe }) : undefined, postgres ? stopPostgres() : undefined]);
}

if (import.meta.main) {
  await infraDown({ wipe: process.argv.includes('--wipe') });
  console.log('infra down');
}
