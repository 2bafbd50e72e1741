import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apps, ensureDeployTools, repoRoot } from './deploy-paths';
import { checkDockerfile, parseDockerfile, stagesOf } from './dockerfile-check';

// Scenarios: the real Dockerfile keeps every rule; each rule, broken on a
// copy, is reported; hadolint finds nothing at warning level or above and
// does flag a root user; .dockerignore keeps builds and secrets out.

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const mutate = (from: string | RegExp, to: string) => {
  const changed = dockerfile.replace(from, to);
  expect(changed).not.toBe(dockerfile);
  return changed;
};

describe('Dockerfile', () => {
  it('keeps every rule of the service image', () => {
    expect(checkDockerfile(dockerfile)).toEqual([]);
  });

  it('runs node with the same flags as npm start and the bench (heap sizes, warnings)', () => {
    const processes = readFileSync(join(repoRoot, 'tools/platform/service-processes.mts'), 'utf8');
    const declared = /serviceNodeFlags = (\[[^\]]*\])/.exec(processes)?.[1];
    expect(declared).toBeDefined();
    const flags = JSON.parse((declared ?? '[]').replace(/'/g, '"')) as string[];
    expect(flags).toContain('--max-semi-space-size=8');
    const cmd = dockerfile.split('\n').find((line) => line.startsWith('CMD ["node"'));
    expect(cmd).toBe(`CMD ${JSON.stringify(['node', ...flags, 'dist/main.js']).replace(/,/g, ', ')}`);
    const env = /serviceProcessEnv = \{ MALLOC_ARENA_MAX: '(\d+)' \}/.exec(processes)?.[1];
    expect(env).toBeDefined();
    expect(dockerfile).toContain(`MALLOC_ARENA_MAX=${env}`);
  });

  it('builds in one stage and runs in another, from node:24-slim pinned by tag', () => {
    const { globalArgs, stages } = stagesOf(parseDockerfile(dockerfile));
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(globalArgs.map((a) => a.args)).toContain('NODE_IMAGE=node:24-slim');
  });

  it.each([
    ['runs as root', /USER 1000:1000/, 'USER root'],
    ['runs as uid 0', /USER 1000:1000/, 'USER 0'],
    ['has no USER', /USER 1000:1000\n/, ''],
    ['uses a user name', /USER 1000:1000/, 'USER node'],
    ['has an unpinned base', 'NODE_IMAGE=node:24-slim', 'NODE_IMAGE=node:latest'],
    ['has no ARG APP in the runtime', /(AS runtime\n)ARG APP\n/, '$1'],
    ['exposes another port', 'EXPOSE 8080', 'EXPOSE 3000'],
    ['checks /health/ready instead of live', "'/health/live'", "'/health/ready'"],
    ['has no HEALTHCHECK', /HEALTHCHECK[^\n]*\\\n[^\n]*\n/, ''],
    ['keeps dev dependencies', '--omit=dev', ''],
    ['copies sources into the runtime', /(USER 1000:1000)/, 'COPY . /app\n$1'],
    ['starts in shell form', /CMD \[.*\]/, 'CMD node dist/main.js'],
  ])('reports a Dockerfile that %s', (_case, from, to) => {
    expect(checkDockerfile(mutate(from, to))).not.toEqual([]);
  });

  it('names the services the image can be built for, each with the entry points the image runs', () => {
    for (const app of apps) {
      expect(existsSync(join(repoRoot, 'apps', app, 'src', 'main.ts'))).toBe(true);
      expect(existsSync(join(repoRoot, 'apps', app, 'src', 'migrate.ts'))).toBe(true);
      expect(JSON.parse(readFileSync(join(repoRoot, 'apps', app, 'package.json'), 'utf8')).scripts.build).toBe('tsc -p tsconfig.build.json');
    }
  });

  it('passes hadolint at warning level, and hadolint does flag a root user', () => {
    const { hadolint } = ensureDeployTools();
    const lint = (text: string) => {
      try {
        execFileSync(hadolint, ['--no-color', '--failure-threshold', 'warning', '-'], { input: text, encoding: 'utf8' });
        return '';
      } catch (error) {
        return String((error as { stdout?: string }).stdout);
      }
    };
    expect(lint(dockerfile)).toBe('');
    expect(lint(mutate(/USER 1000:1000/, 'USER root'))).toMatch(/DL3002/);
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps installed modules, builds, git history, local infrastructure and env files out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.infra', '.gancho', '.tools', '**/.env']));
  });

  it('keeps every workspace manifest that npm ci needs in the context', () => {
    const workspaces = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).workspaces as string[];
    for (const pattern of ['package.json', 'package-lock.json', ...workspaces]) {
      expect(ignored.some((rule) => rule === pattern || rule === `${pattern}/`)).toBe(false);
    }
  });
});
