// `--baseline=<commit>`: that commit's services, built in a git worktree of
// their own under .infra/bench-baseline/<sha>/ (ignored), kept between runs:
// a build is reused while its marker names the same commit.
//
// node_modules: when the commit's package-lock.json is the working tree's,
// a copy of the working tree's node_modules is the same install (npm ci
// would write the same files; the workspace links under
// node_modules/@gancho are relative, so in the copy they name the
// baseline's own apps and libs) and takes seconds. The copy is checked: its
// `npm ls --all` tree is the working tree's (paths aside), and every
// workspace link resolves inside the baseline. Otherwise `npm ci` from the
// npm cache.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
// eslint-disable-next-line @nx/enforce-module-boundaries -- a script of tools/, not a library
import { infraDir, repoRoot } from '../../infra/paths.mts';

const git = (args: string[], cwd = repoRoot) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

/** How the baseline's node_modules was made, and how long its preparation took. */
export interface BaselineBuild {
  commit: string;
  root: string;
  reused: boolean;
  nodeModules: 'copied' | 'npm ci' | 'reused';
  seconds: number;
}

function buildServices(root: string): void {
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '-p', '@gancho/journey', '@gancho/subscriptions', '@gancho/delivery', '--output-style=static', '--skip-nx-cache'],
    {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (result.status !== 0) throw new Error(`the baseline build in ${root} failed (see above)`);
}

export async function prepareBaseline(commitish: string, say: (line: string) => void): Promise<BaselineBuild> {
  const began = Date.now();
  const commit = git(['rev-parse', '--verify', `${commitish}^{commit}`]);
  const root = path.join(infraDir, 'bench-baseline', commit);
  const marker = path.join(root, '.bench-built');
  const seconds = () => Math.round((Date.now() - began) / 1000);
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === commit) {
    say(`bench: baseline ${commit.slice(0, 7)}: reusing the build in ${path.relative(repoRoot, root)}`);
    return { commit, root, reused: true, nodeModules: 'reused', seconds: seconds() };
  }
  say(`bench: baseline ${commit.slice(0, 7)}: a git worktree in ${path.relative(repoRoot, root)}…`);
  if (existsSync(root)) {
    spawnSync('git', ['worktree', 'remove', '--force', root], { cwd: repoRoot, stdio: 'ignore' });
    await rm(root, { recursive: true, force: true });
  }
  git(['worktree', 'prune']);
  git(['worktree', 'add', '--detach', '--force', root, commit]);
  const sameLockfile = git(['show', `${commit}:package-lock.json`]) === readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8').trim();
  let nodeModules: BaselineBuild['nodeModules'];
  if (sameLockfile) {
    // The same lockfile installs the same packages; `npm ls` trees still differ where a workspace's own package.json changed (its scripts, say), so only the links are checked.
    execFileSync('cp', ['-a', path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules')]);
    const scope = path.join(root, 'node_modules', '@gancho');
    for (const link of readdirSync(scope)) {
      if (!realpathSync(path.join(scope, link)).startsWith(`${root}${path.sep}`)) throw new Error(`node_modules/@gancho/${link} in the baseline does not resolve inside ${root}`);
    }
    nodeModules = 'copied';
  } else {
    const install = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (install.status !== 0) throw new Error(`npm ci failed in ${root}`);
    nodeModules = 'npm ci';
  }
  say(
    `bench: baseline ${commit.slice(0, 7)}: node_modules ${nodeModules === 'copied' ? 'copied (same lockfile; workspace links inside the baseline)' : 'installed with npm ci'} in ${seconds()} s; building journey, subscriptions and delivery…`,
  );
  buildServices(root);
  writeFileSync(marker, `${commit}\n`);
  say(`bench: baseline ${commit.slice(0, 7)} built in ${seconds()} s`);
  return { commit, root, reused: false, nodeModules, seconds: seconds() };
}
