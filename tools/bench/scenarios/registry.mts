// Every scenario module of `npm run bench`, in the order they run. A new
// scenario is a module of its own (scenario.mts says what one looks like),
// listed here; its names become valid for --only.
import { apiPathScenarios } from './api.mts';
import { httpCeilingScenarios, kafkaCeilingScenarios } from './ceilings.mts';
import { degradedScenarios } from './degraded.mts';
import { deliveryScenarios } from './delivery.mts';
import { e2eScenarios } from './e2e.mts';
import { routingScenarios } from './routing.mts';
import type { ScenarioModule } from './scenario.mts';

export const scenarioModules: readonly ScenarioModule[] = [httpCeilingScenarios, kafkaCeilingScenarios, deliveryScenarios, e2eScenarios, degradedScenarios, apiPathScenarios, routingScenarios];

/** Scenario names, in the registry's order. */
export const scenarioNames = (stage?: ScenarioModule['stage']): string[] => scenarioModules.filter((m) => stage === undefined || m.stage === stage).flatMap((m) => m.names);

/** What a run with no --only runs, besides the full profiles' every scenario. */
export const smokeScenarios: readonly string[] = ['ceiling-http', 'delivery-fanout-1', 'api-idle', 'api-50-f1'];
