// End to end: status changes walked through the journey API, saturating
// (`e2e-max`) and at a fixed rate (`e2e-500`), to endpoints created through
// the subscriptions API.
import { JourneySource } from '../load.mts';
import { seedThroughApis } from '../seed.mts';
import { saturationBacklog, type ScenarioModule } from './scenario.mts';

const e2eOfferedDeliveriesPerSecond = 500;

export const e2eScenarios: ScenarioModule = {
  stage: 'platform',
  names: ['e2e-max', 'e2e-500'],
  prepare(platform) {
    const { bench, services, secrets } = platform;
    const { wants, durations, say, elapsed, runId, fleet } = bench;
    return {
      endpoints: [],
      async run() {
        if (!wants('e2e-max') && !wants('e2e-500')) return;
        const partners = await seedThroughApis({
          subscriptionsUrl: services.subscriptions.url,
          deliveryUrl: services.delivery.url,
          adminToken: secrets.adminToken,
          fleet,
          partners: 5,
          endpointsPerPartner: 4,
          label: `e2e-${runId.slice(-6)}`,
        });
        say(`bench: 5 partners × 4 endpoints created through the subscriptions API and routed (${elapsed()})`);
        const journeyPartners = partners.map((p) => ({ partnerId: p.partnerId, healthyEndpoints: p.endpoints.length }));
        if (wants('e2e-max')) {
          const source = new JourneySource(services.journey.url, secrets.platformToken, journeyPartners, 64);
          await platform.runScenario(
            'e2e-max',
            'e2e: purchases walked through the journey API (12 status changes each), each change to 4 endpoints of its partner (5 partners)',
            `saturating (≤ ${saturationBacklog} deliveries outstanding, ≤ 64 commands in flight)`,
            source,
            platform.saturate,
            durations.saturateMs,
          );
          await source.close();
        }
        if (wants('e2e-500')) {
          const source = new JourneySource(services.journey.url, secrets.platformToken, journeyPartners, 256);
          await platform.runScenario(
            'e2e-500',
            `e2e at a fixed rate: ${e2eOfferedDeliveriesPerSecond} deliveries/s offered (${e2eOfferedDeliveriesPerSecond / 4} status changes/s × 4 endpoints)`,
            `${e2eOfferedDeliveriesPerSecond} deliveries/s`,
            source,
            { kind: 'rate', unitsPerSecond: e2eOfferedDeliveriesPerSecond / 4 },
            durations.rateMs,
          );
          await source.close();
        }
      },
    };
  },
};
