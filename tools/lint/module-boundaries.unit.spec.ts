import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

// The architecture is enforced by lint. These cases prove the rule bites:
// each lints a deliberately bad snippet, as if it were a file of the project,
// and expects the module-boundaries error (and a good snippet to pass).
// ESLint runs as its own process (its flat config is an ES module, which
// Jest's module sandbox cannot load), exactly as the lint target runs it.
const repoRoot = path.resolve(__dirname, '..', '..');
const eslintBin = path.join(repoRoot, 'node_modules', 'eslint', 'bin', 'eslint.js');

type LintMessage = { ruleId: string | null; message: string };

function boundaryErrors(file: string, code: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [eslintBin, '--format', 'json', '--stdin', '--stdin-filename', file], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        const [result] = JSON.parse(stdout) as { messages: LintMessage[] }[];
        resolve((result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message));
      } catch {
        reject(new Error(`eslint gave no report: ${stderr || stdout}`));
      }
    });
    child.stdin.end(code);
  });
}

describe('module boundaries', () => {
  // The rule reads Nx's cached project graph; make sure there is one (a fresh clone has none).
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'show', 'projects'], {
      cwd: repoRoot,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
  }, 60_000);

  it.each(['@nestjs/common', 'typeorm', 'pg', 'kafkajs'])('forbid domain code to import %s', async (framework) => {
    const errors = await boundaryErrors('libs/contracts/src/boundary-probe.ts', `import * as framework from '${framework}';\nexport const probe = framework;\n`);
    expect(errors).toEqual([`A project tagged with "type:domain" is not allowed to import "${framework}"`]);
  });

  it('forbid domain code to import an adapter library', async () => {
    const errors = await boundaryErrors('libs/purchase-domain/src/boundary-probe.ts', `import { EVENT_TRANSPORT } from '@gancho/messaging';\nexport const probe = EVENT_TRANSPORT;\n`);
    expect(errors).toEqual([expect.stringContaining('can only depend on libs tagged with "type:domain"')]);
  });

  it("hold subscriptions' domain library to the domain rule", async () => {
    const framework = await boundaryErrors('libs/subscriptions-domain/src/boundary-probe.ts', `import { DataSource } from 'typeorm';\nexport const probe = DataSource;\n`);
    expect(framework).toEqual(['A project tagged with "type:domain" is not allowed to import "typeorm"']);
    const adapter = await boundaryErrors('libs/subscriptions-domain/src/boundary-probe.ts', `import { PostgresEventStore } from '@gancho/event-store';\nexport const probe = PostgresEventStore;\n`);
    expect(adapter).toEqual([expect.stringContaining('can only depend on libs tagged with "type:domain"')]);
  });

  it('forbid an app to import another app', async () => {
    const errors = await boundaryErrors('apps/journey/src/boundary-probe.ts', `import { DeliveryModule } from '@gancho/delivery';\nexport const probe = DeliveryModule;\n`);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/apps are forbidden|can only depend on libs tagged/);
  });

  it('keep the testing library out of production code but allow it in tests', async () => {
    const code = `import { uniqueName } from '@gancho/testing';\nexport const probe = uniqueName;\n`;
    expect(await boundaryErrors('libs/messaging/src/boundary-probe.ts', code)).toHaveLength(1);
    expect(await boundaryErrors('libs/messaging/src/boundary-probe.int.spec.ts', code)).toEqual([]);
  });

  it('let domain code import other domain code', async () => {
    expect(await boundaryErrors('libs/contracts/src/boundary-probe.ts', `import { Topics } from './topics';\nexport const probe = Topics;\n`)).toEqual([]);
  });
});
