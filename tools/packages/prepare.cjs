// `prepare` of the publishable packages (@gancho/webhooks, @gancho/cli): npm
// runs it when one is installed from its folder or packed (`npm pack`, so
// tools/packages/pack.mts), and builds it then. npm also runs every
// workspace's `prepare` on this repository's own `npm ci`; there the build is
// left to whoever needs it (npm run build, the tests through Nx, pack.mts),
// so that installing the workspace stays fast.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..', '..');
const installingThisWorkspace = process.env.INIT_CWD !== undefined && path.resolve(process.env.INIT_CWD) === repoRoot && process.env.npm_command !== 'pack';
if (installingThisWorkspace) process.exit(0);

const [command, ...args] = process.argv.slice(2);
const executable = command === 'tsc' ? require.resolve('typescript/bin/tsc') : path.resolve(command);
execFileSync(process.execPath, [executable, ...args], { stdio: 'inherit' });
