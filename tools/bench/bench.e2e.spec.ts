import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The bench's smoke profile as `npm run bench` runs it — its own process, the
// built services as processes, real PostgreSQL and Kafka, receiver processes
// verifying every signature — for one short scenario and the HTTP ceiling,
// and the API path (POST /purchases → webhook verified, on the bench's own
// PostgreSQL and Kafka) for a short fixed rate and a short idle window.
// It checks that the bench works and reports honestly (every delivery owed
// arrived and verified, the figures come from the processes they name, the
// summary line is last), never how fast it is.
describe('npm run bench -- --smoke', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gancho-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers, verifies and reports one short scenario beside the ceiling and the API path, ending with the summary line', async () => {
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
    expect(lastLine).toMatch(/^e2e_per_s=na delivery_only_per_s=\d+ ceiling_per_s=\d+ ratio=[\d.]+ e2e_p99_ms=na degraded_healthy_p99_ms=na api50_cpu_us=\d+ api50_p99_ms=\d+ api_sat_per_s=na idle_cores=[\d.]+$/);

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

    // The API path: every purchase journey accepted reached its endpoint once, verified, timed from journey's answer.
    const api = Object.fromEntries(report.apiScenarios.map((s: { name: string }) => [s.name, s]));
    expect(Object.keys(api)).toEqual(['api-idle', 'api-50-f1']);
    const at50 = api['api-50-f1'];
    expect(at50).toMatchObject({ build: 'current', transport: 'kafka', fanout: 1, drained: true, lost: 0, unverified: 0, commandErrors: 0 });
    expect(at50.purchasesAccepted).toBeGreaterThan(0);
    expect(at50.deliveriesOwed).toBe(at50.purchasesAccepted);
    expect(at50.deliveries).toBe(at50.deliveriesOwed);
    expect(at50.latencyMs.count).toBe(at50.deliveries);
    // CPU per delivery is each named process's own, and "platform" is their sum.
    const named = ['journey', 'subscriptions', 'delivery', 'postgres', 'kafka'];
    for (const name of named) expect(at50.processes[name].cpuSeconds).toBeGreaterThan(0);
    expect(at50.processes.postgres.processes).toBeGreaterThan(1);
    const sum = named.reduce((total, name) => total + at50.processes[name].cpuSeconds, 0);
    expect(at50.cpuMicrosPerDelivery.platform).toBe(Math.round((sum * 1e6) / at50.deliveries));
    // Statements come from pg_stat_statements, commits from the server's counters: the platform sent some of each.
    expect(at50.database.statements).toBeGreaterThan(0);
    expect(at50.database.commits).toBeGreaterThan(0);
    expect(report.summary.api50_cpu_us).toBe(at50.cpuMicrosPerDelivery.platform);
    expect(report.summary.api50_p99_ms).toBe(at50.latencyMs.p99);
    const idle = api['api-idle'];
    expect(idle.deliveries).toBe(0);
    expect(idle.cores.platform).toBeCloseTo(
      named.reduce((total, name) => total + idle.cores[name], 0),
      2,
    );
    expect(report.summary.idle_cores).toBe(idle.cores.platform);
  });
});
