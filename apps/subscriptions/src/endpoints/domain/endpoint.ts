import type { ActiveCampaignMappingV1, EndpointDisabledReason, EndpointOrdering } from '@gancho/contracts';

/**
 * An endpoint's lifecycle, event-sourced on the stream `endpoint:{id}`; the
 * stream is also its audit trail. Signing secrets appear only sealed
 * (`@gancho/secret-box`). Pure: no framework, no clock, no randomness.
 */
/**
 * Where events go. An ActiveCampaign token appears only sealed (context
 * `endpoint-destination:<id>`), with its last four characters as a hint for
 * the partner. Events recorded before destinations existed have none: webhook.
 */
export type EndpointDestination =
  | { type: 'webhook' }
  | {
      type: 'activecampaign';
      apiUrl: string;
      sealedApiToken: string;
      apiTokenHint: string;
      mapping: ActiveCampaignMappingV1;
      /** AC event tracking; absent (recorded before it existed) or null: off. The event key appears only sealed. */
      eventTracking?: { actid: string; sealedEventKey: string; eventKeyHint: string } | null;
    };

export interface EndpointSettings {
  /** For an ActiveCampaign destination, its API URL. */
  url: string;
  destination: EndpointDestination;
  description: string;
  eventTypes: string[];
  headers: Record<string, string>;
  rateLimitPerSecond: number | null;
  ordering: EndpointOrdering;
}

export interface SealedSecret {
  sealed: string;
  validFrom: string;
  /** null for the current secret; when a rotation's overlap ends for the previous one. */
  validUntil: string | null;
}

export type EndpointCreated = {
  type: 'EndpointCreated';
  data: { endpointId: string; partnerId: string; settings: EndpointSettings; enabled: boolean; sealedSecret: string; occurredAt: string };
};
/** Only the settings that changed. */
export type EndpointUpdated = { type: 'EndpointUpdated'; data: { changes: Partial<EndpointSettings>; occurredAt: string } };
export type EndpointSecretRotated = { type: 'EndpointSecretRotated'; data: { sealedSecret: string; previousValidUntil: string; occurredAt: string } };
export type EndpointDisabled = { type: 'EndpointDisabled'; data: { reason: EndpointDisabledReason; detail: string; occurredAt: string } };
export type EndpointEnabled = { type: 'EndpointEnabled'; data: { occurredAt: string } };
export type EndpointDeleted = { type: 'EndpointDeleted'; data: { occurredAt: string } };
export type EndpointEvent = EndpointCreated | EndpointUpdated | EndpointSecretRotated | EndpointDisabled | EndpointEnabled | EndpointDeleted;
export type EndpointEventType = EndpointEvent['type'];

export interface Endpoint {
  endpointId: string;
  partnerId: string;
  settings: EndpointSettings;
  enabled: boolean;
  disabled: { reason: EndpointDisabledReason; detail: string; at: string } | null;
  secrets: { current: SealedSecret; previous: SealedSecret | null };
  createdAt: string;
  updatedAt: string;
  /** When it was last (re-)enabled, or created enabled: older health reports are stale. */
  enabledAt: string | null;
  version: number;
}

export type EndpointState = { status: 'absent'; version: 0 } | { status: 'live' | 'deleted'; endpoint: Endpoint; version: number };
export const initialEndpointState: EndpointState = { status: 'absent', version: 0 };

export function evolveEndpoint(state: EndpointState, event: EndpointEvent): EndpointState {
  const version = state.version + 1;
  if (event.type === 'EndpointCreated') {
    const { endpointId, partnerId, settings, enabled, sealedSecret, occurredAt } = event.data;
    return {
      status: 'live',
      version,
      endpoint: {
        endpointId,
        partnerId,
        // Recorded before destinations existed: a webhook.
        settings: { ...settings, destination: (settings as Partial<EndpointSettings>).destination ?? { type: 'webhook' } },
        enabled,
        disabled: enabled ? null : { reason: 'by_partner', detail: 'Created disabled.', at: occurredAt },
        secrets: { current: { sealed: sealedSecret, validFrom: occurredAt, validUntil: null }, previous: null },
        createdAt: occurredAt,
        updatedAt: occurredAt,
        enabledAt: enabled ? occurredAt : null,
        version,
      },
    };
  }
  if (state.status === 'absent') return state;
  const at = event.data.occurredAt;
  const endpoint: Endpoint = { ...state.endpoint, updatedAt: at, version };
  switch (event.type) {
    case 'EndpointUpdated':
      return { status: state.status, version, endpoint: { ...endpoint, settings: { ...endpoint.settings, ...event.data.changes } } };
    case 'EndpointSecretRotated':
      return {
        status: state.status,
        version,
        endpoint: {
          ...endpoint,
          secrets: {
            current: { sealed: event.data.sealedSecret, validFrom: at, validUntil: null },
            previous: { ...endpoint.secrets.current, validUntil: event.data.previousValidUntil },
          },
        },
      };
    case 'EndpointDisabled':
      return { status: state.status, version, endpoint: { ...endpoint, enabled: false, disabled: { reason: event.data.reason, detail: event.data.detail, at } } };
    case 'EndpointEnabled':
      return { status: state.status, version, endpoint: { ...endpoint, enabled: true, disabled: null, enabledAt: at } };
    case 'EndpointDeleted':
      return { status: 'deleted', version, endpoint };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export const foldEndpoint = (events: readonly EndpointEvent[]): EndpointState => events.reduce(evolveEndpoint, initialEndpointState);

/** The secrets to sign with at `now`: the current one, and the previous one while its overlap lasts. */
export function activeSecrets(endpoint: Endpoint, now: Date): SealedSecret[] {
  const { current, previous } = endpoint.secrets;
  return previous && previous.validUntil !== null && Date.parse(previous.validUntil) > now.getTime() ? [current, previous] : [current];
}
