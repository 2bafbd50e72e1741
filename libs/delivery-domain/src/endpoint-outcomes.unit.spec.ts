import { summarizeEndpointOutcomes, type EndpointOutcome } from './endpoint-outcomes';

const at = (second: number) => new Date(Date.UTC(2026, 10, 27, 12, 0, second));
const outcome = (endpointId: string, succeeded: boolean, second: number): EndpointOutcome => ({ endpointId, partnerId: `p_${endpointId}`, succeeded, finishedAt: at(second) });

describe('summarizeEndpointOutcomes', () => {
  it('gives one summary per endpoint, sorted by endpoint id', () => {
    const summaries = summarizeEndpointOutcomes([outcome('ep_b', true, 1), outcome('ep_a', true, 2), outcome('ep_b', true, 3)]);
    expect(summaries.map((s) => s.endpointId)).toEqual(['ep_a', 'ep_b']);
    expect(summaries[1]).toEqual({
      endpointId: 'ep_b',
      partnerId: 'p_ep_b',
      lastSuccessAt: at(3),
      firstFailureAfterSuccessAt: null,
      lastFailureAt: null,
      failuresAfterSuccess: 0,
    });
  });

  it('counts every failure when nothing succeeded, from the first', () => {
    const [summary] = summarizeEndpointOutcomes([outcome('ep', false, 5), outcome('ep', false, 2), outcome('ep', false, 9)]);
    expect(summary).toMatchObject({ lastSuccessAt: null, firstFailureAfterSuccessAt: at(2), lastFailureAt: at(9), failuresAfterSuccess: 3 });
  });

  it('keeps only the failures after the latest success, whatever order they finished in', () => {
    const [summary] = summarizeEndpointOutcomes([outcome('ep', false, 1), outcome('ep', false, 8), outcome('ep', true, 4), outcome('ep', false, 6), outcome('ep', true, 2)]);
    expect(summary).toMatchObject({ lastSuccessAt: at(4), firstFailureAfterSuccessAt: at(6), lastFailureAt: at(8), failuresAfterSuccess: 2 });
  });

  it('gives nothing for no outcomes', () => {
    expect(summarizeEndpointOutcomes([])).toEqual([]);
  });
});
