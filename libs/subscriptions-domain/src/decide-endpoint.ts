import type { EndpointDisabledReason } from '@gancho/contracts';
import type { EndpointEvent, EndpointSettings, EndpointState } from './endpoint';
import { payloadFilterProblems, type FilterProblem } from '@gancho/delivery-domain';
import { endpointAuthProblems } from './endpoint-auth';
import { customHeaderCountProblems, customHeaderNameProblems, eventTypeFilterProblems } from './endpoint-rules';

interface Metadata {
  now: Date;
}
export type CreateEndpoint = {
  type: 'CreateEndpoint';
  data: { endpointId: string; partnerId: string; settings: EndpointSettings; enabled: boolean; sealedSecret: string };
  metadata: Metadata;
};
export type UpdateEndpoint = { type: 'UpdateEndpoint'; data: { changes: Partial<EndpointSettings>; enabled?: boolean }; metadata: Metadata };
export type RotateSecret = { type: 'RotateSecret'; data: { sealedSecret: string; overlapMs: number }; metadata: Metadata };
/** From delivery's health reports; `reportedAt` is when delivery decided (a report older than the last re-enable is stale). */
export type DisableEndpoint = {
  type: 'DisableEndpoint';
  data: { reason: Exclude<EndpointDisabledReason, 'by_partner'>; detail: string; reportedAt: string };
  metadata: Metadata;
};
export type DeleteEndpoint = { type: 'DeleteEndpoint'; data: Record<string, never>; metadata: Metadata };
export type EndpointCommand = CreateEndpoint | UpdateEndpoint | RotateSecret | DisableEndpoint | DeleteEndpoint;

export class EndpointNotFoundError extends Error {
  readonly code = 'ENDPOINT_NOT_FOUND' as const;
  constructor(readonly endpointId: string) {
    super(`There is no endpoint ${endpointId}.`);
    this.name = 'EndpointNotFoundError';
  }
}

export class EndpointAlreadyExistsError extends Error {
  readonly code = 'ENDPOINT_ALREADY_EXISTS' as const;
  constructor(readonly endpointId: string) {
    super(`Endpoint ${endpointId} already exists.`);
    this.name = 'EndpointAlreadyExistsError';
  }
}

/**
 * A payload filter refused for the endpoint it would have (its shape, or a
 * field its subscribed event types do not have): 422 INVALID_PAYLOAD_FILTER,
 * each problem with where it is in the filter and a stable reason.
 */
export class InvalidPayloadFilterError extends Error {
  readonly code = 'INVALID_PAYLOAD_FILTER' as const;
  readonly errors: { path: string; reason: FilterProblem['reason']; message: string }[];
  constructor(problems: readonly FilterProblem[]) {
    super(`The payload filter is invalid: ${problems.map((p) => `${p.at === '' ? '(filter)' : p.at}: ${p.message}`).join('; ')}`);
    this.name = 'InvalidPayloadFilterError';
    this.errors = problems.map((p) => ({ path: p.at === '' ? 'payload_filter' : `payload_filter.${p.at}`, reason: p.reason, message: p.message }));
  }
}

/** Refuses a payload filter that does not fit the event types the endpoint would subscribe to (checked whenever either changes). */
function checkPayloadFilter(settings: EndpointSettings, changed: Partial<EndpointSettings>): void {
  const filter = settings.payloadFilter ?? null;
  if (filter === null || (changed.payloadFilter === undefined && changed.eventTypes === undefined)) return;
  const problems = payloadFilterProblems(filter, settings.eventTypes);
  if (problems.length > 0) throw new InvalidPayloadFilterError(problems);
}

export class InvalidEndpointCommandError extends Error {
  readonly code = 'INVALID_COMMAND' as const;
  constructor(
    readonly command: EndpointCommand['type'],
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${command}: ${problems.join('; ')}`);
    this.name = 'InvalidEndpointCommandError';
  }
}

function settingsProblems(settings: Partial<EndpointSettings>): string[] {
  const problems: string[] = [];
  if (settings.eventTypes !== undefined) problems.push(...eventTypeFilterProblems(settings.eventTypes));
  // The values arrive sealed: they were checked in the clear at the edge, before sealing.
  if (settings.headers !== undefined) {
    const names = Object.keys(settings.headers);
    problems.push(...customHeaderCountProblems(names.length), ...customHeaderNameProblems(names));
  }
  const rate = settings.rateLimitPerSecond;
  if (rate !== undefined && rate !== null && !(Number.isInteger(rate) && rate > 0)) problems.push('rateLimitPerSecond must be a positive integer or null');
  return problems;
}

/** What is wrong with the settings an endpoint would have, taken together. */
function combinedProblems(settings: EndpointSettings): string[] {
  if (settings.destination.type !== 'activecampaign') return [];
  const problems: string[] = [];
  const { mapping } = settings.destination;
  // ActiveCampaign refuses commas in tag names.
  const tags = [mapping.tag_prefix, ...(mapping.recovery_tag === null ? [] : [mapping.recovery_tag])];
  if (tags.some((tag) => tag.includes(','))) problems.push('ActiveCampaign tag names cannot contain commas');
  // Nothing but Gancho's own calls go to ActiveCampaign: a partner header there would be sent with the API token.
  if (Object.keys(settings.headers).length > 0) problems.push('an ActiveCampaign destination takes no custom headers');
  if (settings.url !== settings.destination.apiUrl) problems.push("an ActiveCampaign endpoint's url is its api_url");
  // A contact is synced by its e-mail: without personal data there is nothing to sync.
  if (!settings.includePersonalData) problems.push("an ActiveCampaign destination needs the student's personal data (include_personal_data: true)");
  return problems;
}

/** The auth's problems with the settings it ends up beside; a certificate's expiry only when the auth is (re)given now. */
function authProblems(settings: EndpointSettings, authGiven: boolean, now: Date): string[] {
  return endpointAuthProblems(settings.auth ?? null, Object.keys(settings.headers), settings.destination.type, settings.url, authGiven ? now : new Date(0));
}

const definedChanges = (changes: Partial<EndpointSettings>): Partial<EndpointSettings> => Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<EndpointSettings>;

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * What a command does to an endpoint: the events to append (none when it
 * changes nothing), or a typed refusal. A deleted endpoint is gone for every
 * command. The URL's safety is checked before (it needs DNS): by the time a
 * command is decided, its URL was accepted.
 */
export function decideEndpoint(command: EndpointCommand, state: EndpointState): EndpointEvent[] {
  const occurredAt = command.metadata.now.toISOString();
  if (command.type === 'CreateEndpoint') {
    if (state.status !== 'absent') throw new EndpointAlreadyExistsError(command.data.endpointId);
    const problems = [...settingsProblems(command.data.settings), ...combinedProblems(command.data.settings), ...authProblems(command.data.settings, true, command.metadata.now)];
    if (problems.length > 0) throw new InvalidEndpointCommandError(command.type, problems);
    checkPayloadFilter(command.data.settings, command.data.settings);
    return [{ type: 'EndpointCreated', data: { ...command.data, occurredAt } }];
  }
  if (state.status !== 'live') throw new EndpointNotFoundError('(unknown)');
  const endpoint = state.endpoint;

  switch (command.type) {
    case 'UpdateEndpoint': {
      const after = { ...endpoint.settings, ...definedChanges(command.data.changes) };
      const problems = [...settingsProblems(command.data.changes), ...combinedProblems(after), ...authProblems(after, command.data.changes.auth !== undefined, command.metadata.now)];
      if (problems.length > 0) throw new InvalidEndpointCommandError(command.type, problems);
      checkPayloadFilter({ ...endpoint.settings, ...definedChanges(command.data.changes) }, definedChanges(command.data.changes));
      const changes = Object.fromEntries(
        Object.entries(command.data.changes).filter(([name, value]) => value !== undefined && !sameValue(value, endpoint.settings[name as keyof EndpointSettings])),
      ) as Partial<EndpointSettings>;
      const events: EndpointEvent[] = Object.keys(changes).length > 0 ? [{ type: 'EndpointUpdated', data: { changes, occurredAt } }] : [];
      if (command.data.enabled === true && !endpoint.enabled) events.push({ type: 'EndpointEnabled', data: { occurredAt } });
      if (command.data.enabled === false && endpoint.enabled) {
        events.push({ type: 'EndpointDisabled', data: { reason: 'by_partner', detail: 'Disabled by the partner.', occurredAt } });
      }
      return events;
    }
    case 'RotateSecret': {
      if (!(Number.isInteger(command.data.overlapMs) && command.data.overlapMs >= 0)) {
        throw new InvalidEndpointCommandError(command.type, ['overlapMs must be a whole number ≥ 0']);
      }
      const previousValidUntil = new Date(command.metadata.now.getTime() + command.data.overlapMs).toISOString();
      return [{ type: 'EndpointSecretRotated', data: { sealedSecret: command.data.sealedSecret, previousValidUntil, occurredAt } }];
    }
    case 'DisableEndpoint': {
      // Already off (by its partner or for this very reason), or re-enabled since delivery decided: nothing to do.
      if (!endpoint.enabled) return [];
      if (endpoint.enabledAt !== null && Date.parse(command.data.reportedAt) < Date.parse(endpoint.enabledAt)) return [];
      return [{ type: 'EndpointDisabled', data: { reason: command.data.reason, detail: command.data.detail, occurredAt } }];
    }
    case 'DeleteEndpoint':
      return [{ type: 'EndpointDeleted', data: { occurredAt } }];
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
