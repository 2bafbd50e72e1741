// How long `npm start` takes to a verified webhook, measured the way a
// newcomer meets it: start the platform (in its own data folder and ports),
// open a purchase with the printed token, and wait for the demo receiver's
// "✔ verified" line; then Ctrl-C (SIGINT) and time the stop. `--restarts=N`
// starts again N times on the same data (the restart figure).
//
//   node tools/platform/first-webhook.mts [--restarts=1] [--checkout=<dir>] [--keep-data]
//
// Prints one line per run and, last, `first_start_s=… first_webhook_ms=… restart_s=…`.
// tools/platform/clone-to-webhook.e2e.spec.ts runs the same steps on a fresh clone (npm-start-process.mts).
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';
import { chooseStartPorts, npmStart, openPurchase, stopStart, interrupt, type StartOptions } from './npm-start-process.mts';

interface RunFigures {
  readyMs: number;
  webhookMs: number;
  stopMs: number;
  buildLine: string | undefined;
  phases: string[];
}

async function oneRun(options: StartOptions): Promise<RunFigures> {
  const platform = npmStart(options);
  try {
    const readyMs = await platform.waitForLine(/^gancho is ready in/);
    const openedAt = Date.now();
    const purchaseId = await openPurchase(platform);
    const verified = new RegExp(`✔ verified\\s+purchase\\.shopping_cart_created\\s+${purchaseId}`);
    await platform.waitForLine(verified, 30_000);
    const webhookMs = Date.now() - openedAt;
    const stop = await stopStart(platform);
    // npm itself ends by the same SIGINT (code null); the script says whether it stopped cleanly.
    if (!/^gancho: stopped$/m.test(platform.output())) throw new Error(`npm start exited with ${stop.code} on SIGINT:\n${platform.output().slice(-3000)}`);
    const buildLine = platform
      .output()
      .split('\n')
      .find((line) => line.startsWith('gancho: built '));
    // npm start's own phase lines ("… ready (2.1 s)"): where the time went.
    const phases = platform
      .output()
      .split('\n')
      .filter((line) => /^gancho: .* \((\d+\.\d s)\)$/.test(line))
      .map((line) => line.replace(/^gancho: /, ''));
    return { readyMs, webhookMs, stopMs: stop.tookMs, buildLine, phases };
  } catch (error) {
    interrupt(platform);
    await platform.exited;
    throw error;
  }
}

{
  const args = new Map(process.argv.slice(2).map((arg) => [arg.replace(/^--/, '').split('=')[0] ?? '', arg.split('=')[1] ?? 'true']));
  const checkout = path.resolve(args.get('checkout') ?? repoRoot);
  const restarts = Number(args.get('restarts') ?? 1);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `gancho-first-webhook-${randomUUID().slice(0, 8)}-`));
  // PostgreSQL runs as its own user when we are root: it must reach its folder under this one.
  chmodSync(dataDir, 0o755);
  const ports = await chooseStartPorts();
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  try {
    const first = await oneRun({ checkout, dataDir, ports });
    process.stdout.write(
      `first start (fresh data): ready ${seconds(first.readyMs)} s, webhook verified ${first.webhookMs} ms after the purchase, stopped in ${first.stopMs} ms; ${first.buildLine ?? 'nothing to build'}\n  ${first.phases.join(', ')}\n`,
    );
    const restartFigures: number[] = [];
    for (let run = 0; run < restarts; run++) {
      const again = await oneRun({ checkout, dataDir, ports });
      restartFigures.push(again.readyMs);
      process.stdout.write(
        `restart ${run + 1}: ready ${seconds(again.readyMs)} s, webhook verified ${again.webhookMs} ms after the purchase, stopped in ${again.stopMs} ms; ${again.buildLine ?? 'nothing to build'}\n  ${again.phases.join(', ')}\n`,
      );
    }
    process.stdout.write(
      `first_start_s=${seconds(first.readyMs + first.webhookMs)} first_webhook_ms=${first.webhookMs} restart_s=${restartFigures.map((ms) => seconds(ms)).join(',')} load=${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(',')}\n`,
    );
  } finally {
    if (args.get('keep-data') !== 'true') rmSync(dataDir, { recursive: true, force: true });
  }
}
