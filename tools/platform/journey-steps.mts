// The journey API commands that walk a new purchase (not_logged) to
// made_effective along the transition table's shortest path, with the
// status each one leads to. Shared by the platform e2e, the bench's load and
// the reliability load.
import { commandSlug, shortestPath } from '@gancho/purchase-domain';

export interface JourneyStep {
  /** `POST /purchases/{id}/<path>`. */
  path: string;
  body?: unknown;
  /** The purchase's status after the command. */
  status: string;
}

const shortest = shortestPath('not_logged', 'made_effective');
if (!shortest) throw new Error('the transition table has no path from not_logged to made_effective');

export const journeySteps: readonly JourneyStep[] = shortest.map((step) => ({
  path: commandSlug(step.command),
  ...(step.decision ? { body: { decision: step.decision } } : {}),
  status: step.to,
}));
