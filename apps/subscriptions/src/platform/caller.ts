import type { CommandContext, EventMetadata } from '@gancho/event-store';

/** Who asked for a change: shown in the audit trail. */
export type Actor = { type: 'partner'; partner_id: string; api_key_id: string } | { type: 'admin' } | { type: 'delivery' };

/** Stored with every event. */
export interface SubscriptionsEventMetadata extends EventMetadata {
  actor: Actor;
}

/** Who asks for a command, and where from (correlation and trace context, stored with its events). */
export interface Caller {
  actor: Actor;
  context: CommandContext;
}

/** The metadata every subscriptions event stores besides the context: who asked. */
export const actorOf = (caller: Caller) => (): Pick<SubscriptionsEventMetadata, 'actor'> => ({ actor: caller.actor });
