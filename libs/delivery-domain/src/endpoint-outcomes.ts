/** One finished attempt, as far as the endpoint's health cares. */
export interface EndpointOutcome {
  endpointId: string;
  partnerId: string;
  succeeded: boolean;
  finishedAt: Date;
}

/**
 * What a batch of attempts did to one endpoint's health clock: its latest
 * success, and the failures after it (all of them when none succeeded).
 * Applied to the stored clock, a summary with a success restarts it; one
 * without adds its failures to it.
 */
export interface EndpointOutcomeSummary {
  endpointId: string;
  partnerId: string;
  lastSuccessAt: Date | null;
  firstFailureAfterSuccessAt: Date | null;
  lastFailureAt: Date | null;
  failuresAfterSuccess: number;
}

/**
 * Summarises a batch of attempts per endpoint, so their health is written
 * with one row per endpoint rather than one per attempt. Sorted by endpoint
 * id: writers that lock the rows in the same order cannot deadlock.
 */
export function summarizeEndpointOutcomes(outcomes: readonly EndpointOutcome[]): EndpointOutcomeSummary[] {
  const byEndpoint = new Map<string, EndpointOutcome[]>();
  for (const outcome of outcomes) {
    const list = byEndpoint.get(outcome.endpointId);
    if (list) list.push(outcome);
    else byEndpoint.set(outcome.endpointId, [outcome]);
  }
  const partnerOf = new Map(outcomes.map((o) => [o.endpointId, o.partnerId]));
  const summaries: EndpointOutcomeSummary[] = [];
  for (const [endpointId, list] of byEndpoint) {
    const successes = list.filter((o) => o.succeeded).map((o) => o.finishedAt.getTime());
    const lastSuccess = successes.length > 0 ? Math.max(...successes) : null;
    const failuresAfter = list.filter((o) => !o.succeeded && (lastSuccess === null || o.finishedAt.getTime() > lastSuccess)).map((o) => o.finishedAt.getTime());
    summaries.push({
      endpointId,
      partnerId: partnerOf.get(endpointId) ?? '',
      lastSuccessAt: lastSuccess === null ? null : new Date(lastSuccess),
      firstFailureAfterSuccessAt: failuresAfter.length > 0 ? new Date(Math.min(...failuresAfter)) : null,
      lastFailureAt: failuresAfter.length > 0 ? new Date(Math.max(...failuresAfter)) : null,
      failuresAfterSuccess: failuresAfter.length,
    });
  }
  return summaries.sort((a, b) => (a.endpointId < b.endpointId ? -1 : a.endpointId > b.endpointId ? 1 : 0));
}
