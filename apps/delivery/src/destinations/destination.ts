import type { AttemptOutcomeRecord, LeasedMessage } from '../dispatch/message-store';
import type { RoutedEndpoint } from '../routing/endpoint-directory';

/**
 * How one attempt at a destination ended: attempted (with what the log keeps
 * and the plan for the message), or nothing sent yet because the
 * destination's own limit is booked up (no attempt is counted).
 */
export type DestinationOutcome = { kind: 'postpone'; delayMs: number } | ({ kind: 'attempted' } & AttemptOutcomeRecord);

/** Where a leased message goes: a partner's webhook URL or an ActiveCampaign account. */
export interface Destination {
  /** Makes one attempt of `message` (attempts counts this one) at `endpoint`. Never throws for the destination's own failures: those are outcomes. */
  deliver(message: LeasedMessage, endpoint: RoutedEndpoint): Promise<DestinationOutcome>;
  /** Closes its connections, after the attempts in flight. */
  close(): Promise<void>;
}
