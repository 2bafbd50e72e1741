// `npm run pack`: the publishable packages as npm tarballs, built on the way
// (npm pack runs each one's `prepare`): @gancho/webhooks first, since the
// CLI's build reads its types, then @gancho/cli, with its one registry
// dependency (commander) bundled in the tarball — npm leaves a hoisted
// workspace dependency out of a bundle, so the CLI is packed from a staging
// folder holding its files and commander. Writes them to
// dist/packages/ (or --out=<dir>) and prints one path per line, e.g.
//   dist/packages/gancho-webhooks-0.1.0.tgz
//   dist/packages/gancho-cli-0.1.0.tgz
// Both install in any project with no registry at all:
// `npm install --offline ./gancho-webhooks-0.1.0.tgz ./gancho-cli-0.1.0.tgz`, then `npx gancho`.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';

const sdkDir = path.join(repoRoot, 'libs', 'receiver-sdk');
const cliDir = path.join(repoRoot, 'apps', 'cli');

function npmPack(cwd: string, outDir: string, extra: string[] = []): string {
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', outDir, ...extra], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  // npm prints the build's output before its JSON answer.
  const [packed] = JSON.parse(output.slice(output.indexOf('[\n'))) as { filename: string }[];
  if (!packed) throw new Error(`npm pack in ${cwd} answered nothing`);
  return path.join(outDir, packed.filename);
}

/** Packs @gancho/webhooks and @gancho/cli into `outDir`; answers the two tarballs' paths. */
export function packPublishedPackages(outDir: string): { sdk: string; cli: string } {
  mkdirSync(outDir, { recursive: true });
  const sdk = npmPack(sdkDir, outDir);
  execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'packages', 'prepare.cjs'), 'tsc', '-p', 'tsconfig.build.json'], { cwd: cliDir, stdio: 'inherit', env: { ...process.env, npm_command: 'pack' } });
  const staging = mkdtempSync(path.join(os.tmpdir(), 'gancho-cli-pack-'));
  try {
    cpSync(path.join(cliDir, 'dist'), path.join(staging, 'dist'), { recursive: true });
    // Without the workspace's scripts: it is built, and npm would list a `prepare` the tarball never runs.
    const manifest = JSON.parse(readFileSync(path.join(cliDir, 'package.json'), 'utf8')) as { scripts?: unknown; nx?: unknown };
    delete manifest.scripts;
    delete manifest.nx;
    writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    cpSync(path.join(repoRoot, 'node_modules', 'commander'), path.join(staging, 'node_modules', 'commander'), { recursive: true });
    // Built above; the staging folder has no ../../tools for the prepare script.
    const cli = npmPack(staging, outDir, ['--ignore-scripts']);
    return { sdk, cli };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const out = process.argv
    .slice(2)
    .find((arg) => arg.startsWith('--out='))
    ?.slice('--out='.length);
  for (const file of Object.values(packPublishedPackages(path.resolve(out ?? path.join(repoRoot, 'dist', 'packages'))))) {
    process.stdout.write(`${path.relative(process.cwd(), file) || file}\n`);
  }
}
