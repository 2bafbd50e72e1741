// Delivery only: status events produced straight onto the status topic, at
// fan-out 1, 10 and 100, with ordering per purchase, and with a routing
// table grown by 10,000 endpoints.
import { StatusEventSource } from '../load.mts';
import type { BenchPartner } from '../seed.mts';
import { saturationBacklog, type ScenarioModule } from './scenario.mts';

/** Name, partners, endpoints per partner. */
const fanouts: [string, number, number][] = [
  ['delivery-fanout-1', 10, 1],
  ['delivery-fanout-10', 10, 10],
  ['delivery-fanout-100', 2, 100],
];

export const deliveryScenarios: ScenarioModule = {
  stage: 'platform',
  names: ['delivery-fanout-1', 'delivery-fanout-10', 'delivery-fanout-100', 'delivery-table-10k', 'delivery-ordered-10'],
  prepare(platform) {
    const { bench, publisher } = platform;
    const { wants, durations, say, elapsed } = bench;
    const fanoutPartners = new Map<string, BenchPartner[]>();
    const endpoints: BenchPartner[] = [];
    for (const [name, partners, perPartner] of fanouts) {
      if (wants(name) || (name === 'delivery-fanout-1' && wants('delivery-table-10k'))) {
        const set = publisher.partners(name.replace('delivery-', ''), partners, perPartner);
        fanoutPartners.set(name, set);
        endpoints.push(...set);
      }
    }
    // Fan-out 10 again, every endpoint keeping each purchase in order (ordering: per_purchase).
    const orderedPartners = publisher.partners('ordered-10', 10, 10, 'per_purchase');
    if (wants('delivery-ordered-10')) endpoints.push(...orderedPartners);
    const saturating = `saturating (≤ ${saturationBacklog} deliveries outstanding)`;
    return {
      endpoints,
      async run() {
        for (const [name, partners, perPartner] of fanouts) {
          if (!wants(name)) continue;
          await platform.runScenario(
            name,
            `delivery only: status events produced onto the status topic; ${partners} partners × ${perPartner} endpoint${perPartner > 1 ? 's' : ''} (fan-out ${perPartner})`,
            saturating,
            platform.statusSource(fanoutPartners.get(name) as BenchPartner[]),
            platform.saturate,
            durations.saturateMs,
          );
        }
        if (wants('delivery-ordered-10')) {
          await platform.runScenario(
            'delivery-ordered-10',
            'delivery only, fan-out 10 (10 partners × 10 endpoints) with ordering per_purchase on every endpoint; 4 consecutive events per purchase, each sent only after the previous one of its purchase succeeded',
            saturating,
            new StatusEventSource(
              platform.producer,
              platform.topics.PURCHASE_STATUS_TOPIC,
              orderedPartners.map((p) => ({ partnerId: p.partnerId, healthyEndpoints: p.endpoints.length })),
              { eventsPerPurchase: 4 },
            ),
            platform.saturate,
            durations.saturateMs,
          );
        }
        if (wants('delivery-table-10k')) {
          const filler = publisher.partners('table', 100, 100);
          await platform.publishAndWait(filler);
          say(`bench: routing table grown by 10,000 endpoints (${elapsed()})`);
          await platform.runScenario(
            'delivery-table-10k',
            'delivery only, fan-out 1 (10 partners × 1 endpoint) with 10,000 more endpoints of 100 other partners in the routing table',
            saturating,
            platform.statusSource(fanoutPartners.get('delivery-fanout-1') as BenchPartner[]),
            platform.saturate,
            durations.saturateMs,
          );
        }
      },
    };
  },
};
