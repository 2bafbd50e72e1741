// Degraded: of 100 endpoints, 10 answer 500 and 1 hangs; the latency of the
// healthy ones, beside the same endpoints all healthy (`degraded-clean`).
import { routesOf } from '../seed.mts';
import type { ScenarioModule } from './scenario.mts';

const degradedOfferedDeliveriesPerSecond = 500;

export const degradedScenarios: ScenarioModule = {
  stage: 'platform',
  names: ['degraded-clean', 'degraded'],
  prepare(platform) {
    const { bench, publisher } = platform;
    const { wants, durations, results, fleet } = bench;
    const degradedPartners = publisher.partners('degraded', 10, 10);
    return {
      endpoints: wants('degraded') || wants('degraded-clean') ? degradedPartners : [],
      async run() {
        // Below capacity, or both runs measure only their queue: at most half of what fan-out 10 sustained.
        const fanout10 = results.find((r) => r.name === 'delivery-fanout-10')?.deliveriesPerSecond;
        const degradedRate = Math.max(50, Math.min(degradedOfferedDeliveriesPerSecond, fanout10 ? Math.round(fanout10 / 2 / 10) * 10 : degradedOfferedDeliveriesPerSecond));
        const eventsPerSecond = degradedRate / 10;
        if (wants('degraded-clean')) {
          await fleet.setRoutes(routesOf(degradedPartners));
          await platform.runScenario(
            'degraded-clean',
            `the degraded scenario's 100 endpoints (10 partners × 10), all healthy: the baseline`,
            `${degradedRate} deliveries/s`,
            platform.statusSource(degradedPartners),
            { kind: 'rate', unitsPerSecond: eventsPerSecond },
            durations.rateMs,
          );
        }
        if (wants('degraded')) {
          // Endpoint 0 of partner 0 hangs; endpoint 1 of every partner answers 500.
          const modeOf = (_e: unknown, i: number) => (i === 0 ? 'hang' : i % 10 === 1 ? 'fail' : 'ok');
          await fleet.setRoutes(routesOf(degradedPartners, modeOf));
          const healthy = new Map(degradedPartners.map((p, pi) => [p.partnerId, p.endpoints.filter((_, ei) => modeOf(null, pi * 10 + ei) === 'ok').length]));
          await platform.runScenario(
            'degraded',
            '100 endpoints (10 partners × 10): 10 answer 500, 1 hangs until the request timeout (15 s); latency of the 89 healthy ones',
            `${degradedRate} deliveries/s`,
            platform.statusSource(degradedPartners, (p) => healthy.get(p.partnerId) ?? 0),
            { kind: 'rate', unitsPerSecond: eventsPerSecond },
            durations.rateMs,
          );
          // Retries to the failing endpoints succeed from now on, so nothing is left hanging at the stop.
          await fleet.setRoutes(routesOf(degradedPartners));
        }
      },
    };
  },
};
