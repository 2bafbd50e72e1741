import type { EndpointOutcomeSummary } from '@gancho/delivery-domain';
import { RecentSuccesses } from './attempt-recorder';

const success = (endpointId: string): EndpointOutcomeSummary => ({
  endpointId,
  partnerId: 'ptn',
  lastSuccessAt: new Date(0),
  firstFailureAfterSuccessAt: null,
  lastFailureAt: null,
  failuresAfterSuccess: 0,
});
const failure = (endpointId: string): EndpointOutcomeSummary => ({ ...success(endpointId), lastSuccessAt: null, firstFailureAfterSuccessAt: new Date(0), lastFailureAt: new Date(0), failuresAfterSuccess: 1 });
const ids = (summaries: EndpointOutcomeSummary[]) => summaries.map((s) => s.endpointId);

describe('RecentSuccesses', () => {
  it('writes a success once per refresh period per endpoint', () => {
    const recent = new RecentSuccesses(5_000);
    expect(ids(recent.worthWriting([success('a'), success('b')], 1_000))).toEqual(['a', 'b']);
    expect(ids(recent.worthWriting([success('a'), success('b')], 5_999))).toEqual([]);
    expect(ids(recent.worthWriting([success('a')], 6_000))).toEqual(['a']);
    expect(ids(recent.worthWriting([success('b')], 6_000))).toEqual(['b']);
  });

  it('always writes a failure, and the success right after it', () => {
    const recent = new RecentSuccesses(5_000);
    recent.worthWriting([success('a')], 1_000);
    expect(ids(recent.worthWriting([failure('a')], 1_100))).toEqual(['a']);
    expect(ids(recent.worthWriting([failure('a')], 1_200))).toEqual(['a']);
    expect(ids(recent.worthWriting([success('a')], 1_300))).toEqual(['a']);
    expect(ids(recent.worthWriting([success('a')], 1_400))).toEqual([]);
  });
});
