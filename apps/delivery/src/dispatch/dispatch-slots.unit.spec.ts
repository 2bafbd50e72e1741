import { DispatchSlots } from './dispatch-slots';

// Scenarios:
// - Each lane may fill three quarters of the slots; together they never pass the cap.
// - An endpoint holds at most its cap; a busy endpoint is named so claims skip it.
// - Ingest's reservations take first-attempt slots and endpoint slots before the messages are stored; ordered messages are never reserved.
describe('DispatchSlots', () => {
  it('gives each lane three quarters of the slots and never more than all of them together', () => {
    const slots = new DispatchSlots(8, 8);
    expect(slots.free('first')).toBe(6);
    for (let i = 0; i < 6; i++) {
      expect(slots.takeEndpoint(`ep_${i}`)).toBe(true);
      slots.begin('first');
    }
    expect(slots.free('first')).toBe(0);
    expect(slots.free('retry')).toBe(2);
    slots.end('first', 'ep_0');
    expect(slots.free('first')).toBe(1);
    expect(slots.inFlight).toBe(5);
  });

  it('holds an endpoint to its cap and names it busy until a slot frees', () => {
    const slots = new DispatchSlots(64, 2);
    expect(slots.takeEndpoint('ep_slow')).toBe(true);
    expect(slots.takeEndpoint('ep_slow')).toBe(true);
    expect(slots.takeEndpoint('ep_slow')).toBe(false);
    expect(slots.busyEndpoints()).toEqual(['ep_slow']);
    slots.releaseEndpoint('ep_slow');
    expect(slots.busyEndpoints()).toEqual([]);
    expect(slots.takeEndpoint('ep_slow')).toBe(true);
  });

  it('reserves first attempts for unordered messages while slots and endpoint caps allow', () => {
    const slots = new DispatchSlots(4, 1);
    const taken = slots.reserveFirstAttempts([
      { messageId: 'm1', endpointId: 'ep_a', ordered: false },
      { messageId: 'm2', endpointId: 'ep_a', ordered: false },
      { messageId: 'm3', endpointId: 'ep_b', ordered: true },
      { messageId: 'm4', endpointId: 'ep_c', ordered: false },
      { messageId: 'm5', endpointId: 'ep_d', ordered: false },
      { messageId: 'm6', endpointId: 'ep_e', ordered: false },
    ]);
    // Three first-attempt slots (¾ of 4); ep_a's cap is 1; m3 waits for the claim that keeps its order.
    expect([...taken]).toEqual(['m1', 'm4', 'm5']);
    expect(slots.free('first')).toBe(0);
    expect(slots.free('retry')).toBe(1);
    slots.settleReservations(3);
    for (let i = 0; i < 3; i++) slots.begin('first');
    expect(slots.free('first')).toBe(0);
    expect(slots.inFlight).toBe(3);
  });
});
