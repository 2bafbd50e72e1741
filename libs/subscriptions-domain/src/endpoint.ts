import type { ActiveCampaignErasure, ActiveCampaignMappingV1, EndpointDisabledReason, EndpointOrdering, PayloadFilterJson } from '@gancho/contracts';
import type { EndpointAuth } from './endpoint-auth';

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
      /** On a student's erasure; absent (recorded before it existed): keep. */
      onErasure?: ActiveCampaignErasure;
    };

/**
 * A custom header value: it may be a credential of the partner's receiver, so
 * it appears only sealed (context `endpoint-header:<id>:<name>`), with its
 * last four characters as a hint (null for a value too short to show any).
 */
export interface SealedHeaderValue {
  sealed: string;
  hint: string | null;
}

/** Values shorter than this show no hint: four characters would be too much of them. */
export const minHintedHeaderValueLength = 12;

/** The hint the partner sees of a header value. */
export function headerValueHint(value: string): string | null {
  return value.length >= minHintedHeaderValueLength ? value.slice(-4) : null;
}

export interface EndpointSettings {
  /** For an ActiveCampaign destination, its API URL. */
  url: string;
  destination: EndpointDestination;
  description: string;
  eventTypes: string[];
  /** Header name (as given) → its sealed value. */
  headers: Record<string, SealedHeaderValue>;
  rateLimitPerSecond: number | null;
  ordering: EndpointOrdering;
  /** Only events whose data it matches are delivered (docs/filters.md); null or absent (recorded before filters existed): all. */
  payloadFilter?: PayloadFilterJson | null;
  /** Authentication besides the signature; absent (recorded before it existed) or null: none. */
  auth?: EndpointAuth | null;
  /** false: its webhooks carry the student's id only (no name, no e-mail). Events recorded before it existed: true. */
  includePersonalData: boolean;
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

/** Seals one header value of the endpoint (the caller holds the key): how events recorded with plain values are upcast. */
export type SealHeaderValue = (endpointId: string, name: string, value: string) => SealedHeaderValue;

/**
 * An event as recorded, with custom header values that were recorded in the
 * clear (before they were sealed) sealed now, so the rest of the code only
 * ever sees sealed values. The stored events themselves are not rewritten.
 */
export function upcastEndpointEvent(event: EndpointEvent, endpointId: string, seal: SealHeaderValue): EndpointEvent {
  const upcastHeaders = (headers: Record<string, SealedHeaderValue | string>): Record<string, SealedHeaderValue> =>
    Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, typeof value === 'string' ? seal(endpointId, name, value) : value]));
  const hasPlain = (headers: Record<string, SealedHeaderValue | string> | undefined): boolean => headers !== undefined && Object.values(headers).some((v) => typeof v === 'string');
  if (event.type === 'EndpointCreated' && hasPlain(event.data.settings.headers)) {
    return { ...event, data: { ...event.data, settings: { ...event.data.settings, headers: upcastHeaders(event.data.settings.headers) } } };
  }
  if (event.type === 'EndpointUpdated' && hasPlain(event.data.changes.headers)) {
    return { ...event, data: { ...event.data, changes: { ...event.data.changes, headers: upcastHeaders(event.data.changes.headers ?? {}) } } };
  }
  return event;
}

/** `evolveEndpoint` over events as recorded: plain header values of old events are sealed on the way in. */
export function upcastingEvolve(seal: SealHeaderValue): (state: EndpointState, event: EndpointEvent) => EndpointState {
  return (state, event) => {
    const endpointId = event.type === 'EndpointCreated' ? event.data.endpointId : state.status === 'absent' ? '' : state.endpoint.endpointId;
    return evolveEndpoint(state, upcastEndpointEvent(event, endpointId, seal));
  };
}

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
        settings: {
          ...settings,
          destination: (settings as Partial<EndpointSettings>).destination ?? { type: 'webhook' },
          includePersonalData: (settings as Partial<EndpointSettings>).includePersonalData ?? true,
        },
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
