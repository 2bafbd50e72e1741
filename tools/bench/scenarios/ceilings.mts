// The machine's ceilings, with no platform in between: raw undici POSTs of
// signed webhook bodies to the same verifying receivers the platform sends to
// (`ceiling-http`, and with --compare-node=22 the same under another Node),
// and raw kafkajs produce→consume (`ceiling-kafka`).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { httpCeiling, kafkaCeiling } from '../ceilings.mts';
import { GroupCpuWatch, ProcessWatch, findPids, round } from '../proc-stats.mts';
import { ReceiverFleet } from '../receivers.mts';
import { dispatchConcurrency, pickReceiverStats, type BenchRun, type ScenarioModule } from './scenario.mts';

/** A Node binary of another major version, from the npm registry's `node` package (npm exec caches it). */
function nodeBinary(major: string): string {
  const output = execFileSync('npm', ['exec', '--yes', `--package=node@${major}`, '--', 'node', '-p', 'process.execPath'], { cwd: os.tmpdir(), encoding: 'utf8' });
  return output.trim().split('\n').pop() as string;
}

async function runHttpCeilings(bench: BenchRun): Promise<void> {
  const { durations, ceilingNodeArgs, results, say, elapsed } = bench;
  const ceilingEndpoints = Array.from({ length: 16 }, (_, i) => ({ key: `ceiling-${i}`, secret: `whsec_${randomBytes(32).toString('base64')}` }));
  await bench.fleet.setRoutes(ceilingEndpoints.map((e) => ({ key: e.key, secrets: [e.secret] })));
  const runHttpCeiling = async (name: string, nodePath: string, receivers: ReceiverFleet, pids: Record<string, number>) => {
    await receivers.reset();
    const watch = new ProcessWatch(pids);
    watch.start();
    const result = await httpCeiling(
      nodePath,
      {
        targets: ceilingEndpoints.map((e) => ({ url: receivers.target(e.key).url, secret: e.secret })),
        durationMs: durations.httpCeilingMs,
        concurrency: dispatchConcurrency,
      },
      ceilingNodeArgs,
    );
    const processes = watch.stop();
    const stats = await receivers.stats();
    results.push({
      name,
      description: `raw undici keep-alive POSTs (${dispatchConcurrency} in flight), signed webhook bodies, to the same verifying receivers; client on Node ${result.node}`,
      offered: 'as fast as it goes',
      deliveriesPerSecond: Math.round(stats.healthyVerified / result.seconds),
      latencyMs: stats.latency.summary(),
      processes: { ...processes, 'ceiling-client': { cpuSeconds: result.cpuSeconds, cores: round(result.cpuSeconds / result.seconds, 2), peakRssMb: 0 } },
      receivers: pickReceiverStats(stats),
      extra: {
        client: result,
        cpuMicrosPerRequest: {
          client: round((result.cpuSeconds * 1e6) / Math.max(1, stats.healthyVerified), 1),
          receivers: round(
            (Object.entries(processes)
              .filter(([k]) => k.startsWith('receiver-'))
              .reduce((sum, [, p]) => sum + p.cpuSeconds, 0) *
              1e6) /
              Math.max(1, stats.healthyVerified),
            1,
          ),
        },
        nodeArgs: ceilingNodeArgs,
      },
    });
    const perRequest = results[results.length - 1]?.extra?.cpuMicrosPerRequest as { client: number; receivers: number };
    say(
      `bench: ${name}: ${Math.round(stats.healthyVerified / result.seconds)} verified POSTs/s (client saw ${result.perSecond}/s, ${result.errors} errors); CPU per request: client ${perRequest.client} µs, receivers ${perRequest.receivers} µs (${elapsed()})`,
    );
    return result;
  };
  await runHttpCeiling('ceiling-http', process.execPath, bench.fleet, bench.receiverPids);
  const compare = bench.option('compare-node');
  if (compare) {
    const other = nodeBinary(compare);
    const otherFleet = await ReceiverFleet.start(bench.receiverCount, other, ceilingNodeArgs);
    bench.cleanups.push(() => otherFleet.close());
    await otherFleet.setRoutes(ceilingEndpoints.map((e) => ({ key: e.key, secrets: [e.secret] })));
    await runHttpCeiling(`ceiling-http-node${compare}`, other, otherFleet, Object.fromEntries(otherFleet.pids.map((pid, i) => [`receiver-${i}`, pid])));
    await otherFleet.close();
  }
}

export const httpCeilingScenarios: ScenarioModule = {
  stage: 'machine',
  names: ['ceiling-http'],
  sharedInfra: false,
  run: runHttpCeilings,
};

export const kafkaCeilingScenarios: ScenarioModule = {
  stage: 'machine',
  names: ['ceiling-kafka'],
  sharedInfra: true,
  async run({ durations, infraEnv, runId, results, say, elapsed }) {
    const kafkaGroup = new GroupCpuWatch(() => findPids('kafka.Kafka'));
    kafkaGroup.start();
    const kafka = await kafkaCeiling(process.execPath, { brokers: infraEnv.KAFKA_BROKERS, topic: `bench.${runId}.ceiling`, messages: durations.kafkaMessages, partitions: 6 });
    results.push({
      name: 'ceiling-kafka',
      description: 'raw kafkajs produce→consume of status-event CloudEvents, producer and consumer in separate processes, 6 partitions',
      offered: `${durations.kafkaMessages} messages, batches of 500`,
      deliveriesPerSecond: kafka.perSecond,
      latencyMs: kafka.latency,
      processes: { kafka: kafkaGroup.stop(), producer: { cpuSeconds: kafka.producerCpuSeconds, cores: 0, peakRssMb: 0 }, consumer: { cpuSeconds: kafka.consumerCpuSeconds, cores: 0, peakRssMb: 0 } },
      extra: { kafka },
    });
    say(`bench: ceiling-kafka: ${kafka.perSecond} messages/s produce→consume, p99 ${kafka.latency.p99} ms (${elapsed()})`);
  },
};
