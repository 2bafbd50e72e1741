import { EndpointGate } from './endpoint-gate';

// Scenarios:
// - A healthy endpoint without a rate limit is always let through.
// - Consecutive failures open its circuit: its messages are postponed until the cool-down ends, then one probe goes.
// - Another endpoint's circuit is its own.
// - A rate limit of N/s lets N through at once, then postpones until a token is back; a changed limit takes effect.

const at = (ms: number) => new Date(Date.parse('2026-12-01T12:00:00.000Z') + ms);

describe('EndpointGate', () => {
  it('lets a healthy endpoint without a rate limit through', () => {
    const gate = new EndpointGate();
    for (let i = 0; i < 100; i++) expect(gate.admit('ep_1', null, at(i))).toEqual({ kind: 'send' });
  });

  it("postpones an endpoint whose circuit opened until its cool-down ends, then lets one probe through, and keeps others' circuits apart", () => {
    const gate = new EndpointGate({ failureThreshold: 2, initialCooldownMs: 10_000 });
    gate.recordOutcome('ep_failing', false, at(0));
    expect(gate.admit('ep_failing', null, at(1))).toEqual({ kind: 'send' });
    gate.recordOutcome('ep_failing', false, at(2));

    expect(gate.admit('ep_failing', null, at(3))).toEqual({ kind: 'postpone', reason: 'circuit_open', delayMs: 9_999 });
    expect(gate.admit('ep_healthy', null, at(3))).toEqual({ kind: 'send' });

    expect(gate.admit('ep_failing', null, at(10_002))).toEqual({ kind: 'send' });
    // Only one probe while half-open.
    expect(gate.admit('ep_failing', null, at(10_003))).toMatchObject({ kind: 'postpone', reason: 'circuit_open' });
    gate.recordOutcome('ep_failing', true, at(10_050));
    expect(gate.admit('ep_failing', null, at(10_051))).toEqual({ kind: 'send' });
  });

  it('holds an endpoint to its rate limit, and takes a changed limit at once', () => {
    const gate = new EndpointGate();
    for (let i = 0; i < 2; i++) expect(gate.admit('ep_1', 2, at(0))).toEqual({ kind: 'send' });
    expect(gate.admit('ep_1', 2, at(0))).toEqual({ kind: 'postpone', reason: 'rate_limited', delayMs: 500 });
    expect(gate.admit('ep_1', 2, at(500))).toEqual({ kind: 'send' });

    for (let i = 0; i < 5; i++) expect(gate.admit('ep_1', 5, at(500))).toEqual({ kind: 'send' });
    expect(gate.admit('ep_1', 5, at(500))).toMatchObject({ kind: 'postpone', reason: 'rate_limited' });
    // Limit removed.
    expect(gate.admit('ep_1', null, at(500))).toEqual({ kind: 'send' });
  });
});
