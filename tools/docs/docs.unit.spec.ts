// The documents tell the truth about what they name: every `npm run`/`npm
// start -w` script, every `gancho` command, every repository path, every
// configuration variable and every local port in README.md and docs/*.md is
// checked against the code. The commands that run something end to end are
// run by their own tests (npm start and the first webhook:
// tools/platform/clone-to-webhook.e2e.spec.ts; npm run pack and the installed
// SDK and CLI: tools/packages/packages.e2e.spec.ts).
// docs/deploy.md and k8s/gancho/README.md are being rewritten with the Helm
// chart's checks (tools/deploy) and are left to those.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../infra/paths.mts';

const documents = [
  'README.md',
  'libs/receiver-sdk/README.md',
  ...readdirSync(path.join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md') && f !== 'deploy.md')
    .map((f) => `docs/${f}`),
];
const text = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const manifest = (dir: string) => JSON.parse(readFileSync(path.join(repoRoot, dir, 'package.json'), 'utf8')) as { name: string; scripts?: Record<string, string> };

/** Every workspace's name → its scripts. */
function workspaceScripts(): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  const root = manifest('.');
  found.set(root.name, root.scripts ?? {});
  for (const parent of ['apps', 'libs', 'tests']) {
    for (const dir of readdirSync(path.join(repoRoot, parent))) {
      if (!existsSync(path.join(repoRoot, parent, dir, 'package.json'))) continue;
      const workspace = manifest(path.join(parent, dir));
      found.set(workspace.name, workspace.scripts ?? {});
    }
  }
  return found;
}

/** The fenced code blocks and the `inline code` of a Markdown document. */
function codeOf(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const inline = [...markdown.replace(/```[a-z]*\n[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
  return [...blocks, ...inline];
}

/** Every source file's text, once: where a documented variable must appear. */
const sources = (() => {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', 'dist', '.nx', 'results'].includes(entry.name) || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|mts|cts|cjs|mjs|tsx|yaml|yml|json)$/.test(entry.name) && !/\.spec\.ts$/.test(entry.name)) texts.push(readFileSync(full, 'utf8'));
    }
  };
  for (const dir of ['apps', 'libs', 'tools', 'k8s']) walk(path.join(repoRoot, dir));
  texts.push(text('docker-compose.yml'), text('Dockerfile'));
  return texts.join('\n');
})();

/** Folders a command creates when it runs (and git ignores), named by the documents as such. */
const writtenAtRunTime = new Set(['tools/bench/profiles/']);
/** Variables read by other software than ours: OpenTelemetry's SDK, and the partner's own app in the SDK examples. */
const readByOthers = /^(OTEL_[A-Z_]+|GANCHO_WEBHOOK_SECRET)$/;
/** A transcript of a real run keeps the run's own (random) port. */
const transcriptPorts: Record<string, string[]> = {
  'docs/subscriptions.md': [
    '127.0.0.1:3902',
    // The endpoint-authentication session: services and local receivers on ports of their own.
    'localhost:47002',
    'localhost:47003',
    '127.0.0.1:47101',
    '127.0.0.1:47102',
    '127.0.0.1:47103',
    '127.0.0.1:47104',
    '127.0.0.1:47105',
  ],
  // The payload-filter session's local receiver.
  'docs/filters.md': ['127.0.0.1:4198'],
  'docs/operational-webhooks.md': ['localhost:5201', 'localhost:5202', 'localhost:5203', '127.0.0.1:5298'],
};

/** The CLI's commands and options, as its --help says (run from its sources). */
const cliHelp = (() => {
  const seen = new Map<string, { commands: string[]; options: string[] }>();
  return (...command: string[]) => {
    const key = command.join(' ');
    const known = seen.get(key);
    if (known) return known;
    const help = execFileSync(process.execPath, ['--conditions=@gancho/source', '-r', path.join(repoRoot, 'apps/cli/testing/run-from-source.cjs'), path.join(repoRoot, 'apps/cli/src/main.ts'), ...command, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const section = (title: string) => (help.split(`${title}:\n`)[1] ?? '').split('\n\n')[0] ?? '';
    const parsed = {
      commands: section('Commands')
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[0] ?? '')
        .filter((name) => /^[a-z]/.test(name) && name !== 'help'),
      options: [...section('Options').matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]),
    };
    seen.set(key, parsed);
    return parsed;
  };
})();

/** npm start's default ports, read from its source so a change there fails here until the documents follow. */
function npmStartPorts(): Map<string, number> {
  const start = text('tools/platform/start.mts');
  return new Map([...start.matchAll(/port\('([A-Z_]+)', (\d+)\)/g)].map((m) => [m[1] ?? '', Number(m[2])]));
}

describe.each(documents)('%s', (document) => {
  const code = codeOf(text(document));

  it('names only npm scripts that exist (npm run X, npm start -w <workspace>)', () => {
    const scripts = workspaceScripts();
    const missing: string[] = [];
    for (const snippet of code) {
      for (const m of snippet.matchAll(/\bnpm (run [a-z][\w:-]*|start|test)((?:\s+(?:-w|--workspace)\s+\S+)?)/g)) {
        const script = (m[1] ?? '').replace(/^run /, '');
        const workspace = /(?:-w|--workspace)\s+(\S+)/.exec(m[2] ?? '')?.[1] ?? 'gancho';
        if (!scripts.get(workspace)?.[script]) missing.push(`${m[0]} (no script "${script}" in ${workspace})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('names only gancho CLI commands and options that exist', () => {
    const top = cliHelp();
    const wrong: string[] = [];
    for (const snippet of code) {
      for (const line of snippet.split('\n')) {
        const m = /(?:^|\|\s*|\$ )gancho((?:\s+--json)?)\s+([a-z]+)(?:\s+([a-z]+))?([^#]*)/.exec(line.trim());
        if (!m) continue;
        if (!top.commands.includes(m[2] ?? '')) {
          wrong.push(`${line.trim()}: no command ${m[2]}`);
          continue;
        }
        const command = cliHelp(m[2] ?? '');
        const sub = command.commands.find((name) => name === m[3]);
        if (command.commands.length > 0 && !sub) wrong.push(`${line.trim()}: no command ${m[2]} ${m[3]}`);
        const target = sub ? cliHelp(m[2] ?? '', sub) : command;
        const known = new Set([...target.options, ...top.options]);
        for (const flag of (m[4] ?? '').match(/--[a-z][a-z-]*/g) ?? []) if (!known.has(flag)) wrong.push(`${line.trim()}: no option ${flag}`);
        // The CLI's API URLs in examples are npm start's, as its defaults are.
        const ports = npmStartPorts();
        for (const [flag, variable] of [
          ['--delivery-url', 'DELIVERY_PORT'],
          ['--subscriptions-url', 'SUBSCRIPTIONS_PORT'],
        ] as const) {
          const url = new RegExp(`${flag}[= ]http://(?:localhost|127\\.0\\.0\\.1):(\\d+)`).exec(line)?.[1];
          if (url !== undefined && Number(url) !== ports.get(variable)) wrong.push(`${line.trim()}: ${flag} on ${url}, npm start serves it on ${ports.get(variable)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('names only repository paths that exist', () => {
    const missing: string[] = [];
    for (const snippet of code) {
      for (const m of snippet.matchAll(/(?<![\w./-])((?:apps|libs|tools|docs|k8s|tests)\/[\w.@/-]+)/g)) {
        const candidate = (m[1] ?? '').replace(/[.,:)]+$/, '');
        // Build output and generated places are named as such, not kept in git.
        if (/\/dist(\/|$)|\*|<|\{/.test(candidate) || writtenAtRunTime.has(candidate)) continue;
        if (!existsSync(path.join(repoRoot, candidate))) missing.push(candidate);
      }
    }
    expect(missing).toEqual([]);
  });

  it('names only configuration variables the code reads', () => {
    const unknown = new Set<string>();
    for (const snippet of code) {
      for (const m of snippet.matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b/g)) {
        const name = m[1] ?? '';
        // Problem codes and metric-like words are not variables; a variable is read as a string key or process.env.X.
        if (
          !/_(MS|URL|PORT|TOKENS?|KEY|BROKERS|HOSTS?|ENDPOINTS|LEVEL|SIZE|WINDOW|PARTNER|SECRET|DIR|CONFIG|BUILD|NAME|EXPORTER|SAMPLER|ATTRIBUTES|ENDPOINT|SECOND|BURST|PARTITIONS|TOPIC|SCHEDULE|BYTES|CONCURRENCY|MAX|MIN|TIMEOUT)$/.test(
            name,
          )
        )
          continue;
        if (!sources.includes(name) && !readByOthers.test(name)) unknown.add(name);
      }
    }
    expect([...unknown]).toEqual([]);
  });

  it("uses npm start's ports for the running platform (and the test infrastructure's, and 3001–3003 only for a service run on its own)", () => {
    const ports = npmStartPorts();
    const known = new Set<number>([...ports.values(), 15432, 19092, 3001, 3002, 3003, 16686, 4318]);
    // The developer's own app in examples.
    known.add(3000);
    known.add(4090);
    const wrong: string[] = [];
    for (const snippet of code) {
      for (const m of snippet.matchAll(/(?:localhost|127\.0\.0\.1):(\d{2,5})/g)) {
        if (!known.has(Number(m[1])) && !transcriptPorts[document]?.includes(m[0])) wrong.push(m[0]);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("npm start's ports", () => {
  it('are the ones README.md states', () => {
    const readme = text('README.md');
    const ports = npmStartPorts();
    expect(ports.get('CONSOLE_PORT')).toBe(4000);
    for (const [service, variable] of [
      ['journey', 'JOURNEY_PORT'],
      ['subscriptions', 'SUBSCRIPTIONS_PORT'],
      ['delivery', 'DELIVERY_PORT'],
    ] as const) {
      expect(readme).toContain(`${service} (:${ports.get(variable)})`);
    }
    expect(readme).toContain(`receiver on :${ports.get('DEMO_RECEIVER_PORT')}`);
  });
});
