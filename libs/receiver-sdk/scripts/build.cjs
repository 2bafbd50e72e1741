// Builds the package twice, CommonJS (dist/cjs) and ES modules (dist/esm), each
// with its declarations, and marks each folder's module kind for Node.
const { execFileSync } = require('node:child_process');
const { mkdirSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
for (const [kind, type] of [
  ['cjs', 'commonjs'],
  ['esm', 'module'],
]) {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, `tsconfig.build.${kind}.json`)], { stdio: 'inherit' });
  mkdirSync(path.join(root, 'dist', kind), { recursive: true });
  writeFileSync(path.join(root, 'dist', kind, 'package.json'), `${JSON.stringify({ type })}\n`);
}
