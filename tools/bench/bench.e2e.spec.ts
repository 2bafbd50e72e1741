import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The bench's smoke profile as `npm run bench` runs it — its own process, the
// built services as processes, real PostgreSQL and Kafka, receiver processes
// verifying every signature — for one short scenario and the HTTP ceiling.
// It checks that the bench works and reports honestly (every delivery owed
// arrived and verified, the summary line is last), never how fast it is.
describe('npm run bench -- --smoke', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gancho-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers, verifies and reports one short scenario beside the ceiling, ending with the summary line', async () => {
    const out = path.join(dir, 'smoke.json');
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      // The test target builds the services first; building again inside Jest would only cost time.
      const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning', path.join(__dirname, 'bench.mts'), '--smoke', '--no-build', `--out=${out}`], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('exit', (exitCode) => resolve({ code: exitCode, stdout: text }));
    });
    expect({ code, tail: stdout.slice(-3000) }).toEqual({ code: 0, tail: expect.any(String) });

    const lastLine = stdout.trim().split('\n').pop();
    expect(lastLine).toMatch(/^e2e_per_s=na delivery_only_per_s=\d+ ceiling_per_s=\d+ ratio=[\d.]+ e2e_p99_ms=na degraded_healthy_p99_ms=na$/);

    const report = JSON.parse(readFileSync(out, 'utf8'));
    const byName = Object.fromEntries(report.scenarios.map((s: { name: string }) => [s.name, s]));
    expect(Object.keys(byName)).toEqual(['ceiling-http', 'delivery-fanout-1']);
    const ceiling = byName['ceiling-http'];
    expect(ceiling.receivers.unverified).toBe(0);
    expect(ceiling.receivers.verified).toBeGreaterThan(0);
    expect(ceiling.extra.client.errors).toBe(0);

    const delivery = byName['delivery-fanout-1'];
    // Every delivery owed arrived with a signature that verified (at least once: a redelivery is counted as a duplicate).
    expect(delivery.drive.drained).toBe(true);
    expect(delivery.receivers.verified - delivery.receivers.duplicates).toBe(delivery.drive.expectedDeliveries);
    expect(delivery.receivers).toMatchObject({ unverified: 0, failed: 0, hung: 0 });
    expect(delivery.latencyMs.count).toBe(delivery.receivers.verified);
    // The figures the summary is made of come from the processes it names.
    expect(delivery.processes.delivery.cpuSeconds).toBeGreaterThan(0);
    expect(delivery.processes.delivery.peakRssMb).toBeGreaterThan(0);
    expect(report.summary.delivery_only_per_s).toBe(delivery.deliveriesPerSecond);
    expect(report.summary.ceiling_per_s).toBe(ceiling.deliveriesPerSecond);
  });
});
