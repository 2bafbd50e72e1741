import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  defaultActiveCampaignMapping,
  endpointDestinationSecretContext,
  endpointEventKeySecretContext,
  endpointSecretContext,
  type ActiveCampaignMappingV1,
  type EndpointHealthReportV1,
  type ActiveCampaignErasure,
} from '@gancho/contracts';
import { foldStream, handleStreamCommand, PostgresEventStore, WHEN_APPENDED, type SqlPart, type StreamModel } from '@gancho/event-store';
import { SecretBox } from '@gancho/secret-box';
import { ProblemError } from '@gancho/service-kit';
import { actorOf, type Caller } from '../platform/caller';
import { CLOCK, type Clock } from '../platform/clock';
import { newId } from '../platform/ids';
import type { SubscriptionsConfig } from '../subscriptions.config';
import {
  activeSecrets,
  decideEndpoint,
  EndpointNotFoundError,
  initialEndpointState,
  upcastingEvolve,
  type Endpoint,
  type EndpointCommand,
  type EndpointDestination,
  type EndpointEvent,
  type EndpointSettings,
  type EndpointState,
} from '@gancho/subscriptions-domain';
import { endpointAuthRow, sealEndpointAuth, type EndpointAuthBody, type EndpointAuthView } from './endpoint-auth';
import { headerSealer, patchedHeaders } from './endpoint-header-sealing';
import { auditEntry, endpointView, type AuditEntry, type DestinationView, type EndpointView } from './endpoint-views';

export const endpointStreamId = (endpointId: string) => `endpoint:${endpointId}`;

/** Settings as the API received them: custom header values in the clear (sealed before they are recorded). */
export type SettingsInput = Omit<EndpointSettings, 'destination' | 'headers' | 'auth'> & { headers: Record<string, string>; auth?: EndpointAuthBody | null };
/** Changes as the API received them: a header with a value is set, a header given as null removed, one left out kept. */
export type ChangesInput = Partial<Omit<EndpointSettings, 'destination' | 'headers' | 'auth'>> & { headers?: Record<string, string | null>; auth?: EndpointAuthBody | null };

/** `whsec_` + base64 of 32 random bytes (Standard Webhooks). */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * A destination as the API received it: the ActiveCampaign token in the
 * clear (sealed before it is recorded), or left out to keep the current one.
 * The api_url has passed the URL policy.
 */
export type DestinationInput =
  | { type: 'webhook' }
  | {
      type: 'activecampaign';
      apiUrl: string;
      apiToken?: string;
      mapping?: ActiveCampaignMappingV1;
      /** Left out: as it is (off for a new destination); null: off. */
      eventTracking?: { actid: string; eventKey: string } | null;
      /** Left out: as it is (keep for a new destination). */
      onErasure?: ActiveCampaignErasure;
    };

/** The erasure choice an ActiveCampaign destination ends up with: the one given, else the current one, else none (keep). */
function onErasureOf(input: { onErasure?: ActiveCampaignErasure }, current: { onErasure?: ActiveCampaignErasure } | null): { onErasure?: ActiveCampaignErasure } {
  const onErasure = input.onErasure ?? current?.onErasure;
  return onErasure === undefined ? {} : { onErasure };
}

function destinationProblem(message: string): ProblemError {
  return new ProblemError('VALIDATION_FAILED', 'The request body is invalid.', { errors: [{ path: 'destination.api_token', message }] });
}

export interface SecretsView {
  current: { secret: string; valid_from: string };
  /** The secret before the last rotation, while its overlap lasts. */
  previous: { secret: string; valid_until: string } | null;
}

/**
 * Endpoints of partners: every change is a command on the stream
 * `endpoint:{id}`; listings come from the read model. Every method takes
 * the calling partner and answers ENDPOINT_NOT_FOUND for another partner's
 * endpoint, exactly as for one that does not exist.
 */
@Injectable()
export class EndpointService {
  private readonly model: StreamModel<EndpointState, EndpointEvent>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly secretBox: SecretBox,
    private readonly config: ConfigService<SubscriptionsConfig, true>,
    private readonly store: PostgresEventStore,
  ) {
    // Events recorded before header values were sealed are sealed as they are read.
    this.model = { initialState: initialEndpointState, evolve: upcastingEvolve(headerSealer(secretBox)) };
  }

  async create(partnerId: string, settings: SettingsInput, destination: DestinationInput, enabled: boolean, caller: Caller, claim?: (answer: EndpointView) => SqlPart): Promise<EndpointView | undefined> {
    const now = this.clock.now();
    const endpointId = newId('ep', now);
    const sealedSecret = this.secretBox.seal(newSigningSecret(), endpointSecretContext(endpointId));
    const seal = headerSealer(this.secretBox);
    const headers = Object.fromEntries(Object.entries(settings.headers).map(([name, value]) => [name, seal(endpointId, name, value)]));
    const { auth, ...plain } = settings;
    const full: EndpointSettings = { ...plain, headers, destination: this.sealDestination(endpointId, destination, null), ...(auth ? { auth: sealEndpointAuth(this.secretBox, endpointId, auth, now) } : {}) };
    const command: EndpointCommand = { type: 'CreateEndpoint', data: { endpointId, partnerId, settings: full, enabled, sealedSecret }, metadata: { now } };
    const endpoint = await this.run(partnerId, endpointId, command, caller, claim && ((after) => claim(endpointView(after))));
    return endpoint && endpointView(endpoint);
  }

  async update(partnerId: string, endpointId: string, changes: ChangesInput, enabled: boolean | undefined, caller: Caller, destination?: DestinationInput): Promise<EndpointView> {
    const { headers, auth, ...rest } = changes;
    const withDestination: Partial<EndpointSettings> = { ...rest };
    // A new auth replaces the old one whole, in this one event: delivery sends with the one or the other, never neither.
    if (auth !== undefined) withDestination.auth = auth === null ? null : sealEndpointAuth(this.secretBox, endpointId, auth, this.clock.now());
    if (destination !== undefined || headers !== undefined) {
      const current = await this.load(partnerId, endpointId);
      if (destination !== undefined) withDestination.destination = this.sealDestination(endpointId, destination, current.settings.destination);
      if (headers !== undefined) withDestination.headers = patchedHeaders(this.secretBox, endpointId, current.settings.headers, headers);
    }
    const command: EndpointCommand = {
      type: 'UpdateEndpoint',
      data: { changes: withDestination, ...(enabled === undefined ? {} : { enabled }) },
      metadata: { now: this.clock.now() },
    };
    return endpointView(await this.mustRun(partnerId, endpointId, command, caller));
  }

  /**
   * The destination to record: an ActiveCampaign token sealed under the
   * endpoint's own context. Keeping the current token is allowed only for the
   * same API URL, so a changed URL can never receive a token it was not given.
   */
  private sealDestination(endpointId: string, input: DestinationInput, current: EndpointDestination | null): EndpointDestination {
    if (input.type === 'webhook') return { type: 'webhook' };
    const currentAc = current?.type === 'activecampaign' ? current : null;
    const mapping = input.mapping ?? currentAc?.mapping ?? defaultActiveCampaignMapping();
    const tracking = input.eventTracking;
    const eventTracking =
      tracking === undefined
        ? (currentAc?.eventTracking ?? null)
        : tracking === null
          ? null
          : { actid: tracking.actid, sealedEventKey: this.secretBox.seal(tracking.eventKey, endpointEventKeySecretContext(endpointId)), eventKeyHint: tracking.eventKey.slice(-4) };
    if (input.apiToken === undefined) {
      if (!currentAc) throw destinationProblem('the API token is required');
      if (currentAc.apiUrl !== input.apiUrl) throw destinationProblem('give the API token again when the api_url changes');
      return { ...currentAc, mapping, eventTracking, ...onErasureOf(input, currentAc) };
    }
    return {
      type: 'activecampaign',
      apiUrl: input.apiUrl,
      sealedApiToken: this.secretBox.seal(input.apiToken, endpointDestinationSecretContext(endpointId)),
      apiTokenHint: input.apiToken.slice(-4),
      mapping,
      eventTracking,
      ...onErasureOf(input, currentAc),
    };
  }

  async delete(partnerId: string, endpointId: string, caller: Caller): Promise<void> {
    await this.mustRun(partnerId, endpointId, { type: 'DeleteEndpoint', data: {}, metadata: { now: this.clock.now() } }, caller);
  }

  /** Undefined when `claim` (an idempotency key's, with the answer) found the key taken: nothing was written. */
  async rotateSecret(partnerId: string, endpointId: string, caller: Caller, claim?: (answer: RotationView) => SqlPart): Promise<RotationView | undefined> {
    const now = this.clock.now();
    const sealedSecret = this.secretBox.seal(newSigningSecret(), endpointSecretContext(endpointId));
    const overlapMs = this.config.get('SECRET_ROTATION_OVERLAP_MS', { infer: true });
    const command: EndpointCommand = { type: 'RotateSecret', data: { sealedSecret, overlapMs }, metadata: { now } };
    const endpoint = await this.run(partnerId, endpointId, command, caller, claim && ((after) => claim(rotationView(after))));
    return endpoint && rotationView(endpoint);
  }

  /** Applies delivery's report; a report about an unknown, deleted or mismatched endpoint changes nothing. */
  async applyHealthReport(report: EndpointHealthReportV1, caller: Caller): Promise<'disabled' | 'unchanged' | 'unknown'> {
    const command: EndpointCommand = {
      type: 'DisableEndpoint',
      data: { reason: report.reason, detail: report.detail, reportedAt: report.occurred_at },
      metadata: { now: this.clock.now() },
    };
    try {
      const result = await this.command(report.partner_id, report.endpoint_id, command, caller);
      return result.outcome === 'appended' ? 'disabled' : 'unchanged';
    } catch (error) {
      if (error instanceof EndpointNotFoundError) return 'unknown';
      throw error;
    }
  }

  /** The partner's endpoint as its stream has it now. */
  async load(partnerId: string, endpointId: string): Promise<Endpoint> {
    const state = foldStream(this.model, await this.store.readStreamData<EndpointEvent['data']>(endpointStreamId(endpointId)));
    if (state.status !== 'live' || state.endpoint.partnerId !== partnerId) throw new EndpointNotFoundError(endpointId);
    return state.endpoint;
  }

  /** The signing secrets in the clear, for their partner only. */
  async secrets(partnerId: string, endpointId: string): Promise<SecretsView> {
    const endpoint = await this.load(partnerId, endpointId);
    const [current, previous] = activeSecrets(endpoint, this.clock.now());
    const context = endpointSecretContext(endpointId);
    if (!current) throw new Error('an endpoint always has a current secret');
    return {
      current: { secret: this.secretBox.open(current.sealed, context), valid_from: current.validFrom },
      previous: previous ? { secret: this.secretBox.open(previous.sealed, context), valid_until: previous.validUntil ?? '' } : null,
    };
  }

  async audit(partnerId: string, endpointId: string): Promise<AuditEntry[]> {
    await this.load(partnerId, endpointId);
    const history = await this.store.readStream<EndpointEvent['data']>(endpointStreamId(endpointId));
    return history.map(auditEntry);
  }

  async get(partnerId: string, endpointId: string): Promise<EndpointView> {
    const [row] = await this.dataSource.query('SELECT e.*, a.auth FROM endpoints e LEFT JOIN endpoint_auth a USING (endpoint_id) WHERE endpoint_id = $1 AND partner_id = $2', [endpointId, partnerId]);
    if (!row) throw new EndpointNotFoundError(endpointId);
    return viewOfRow(row);
  }

  async list(partnerId: string, limit: number, after?: string): Promise<{ items: EndpointView[]; next_cursor: string | null }> {
    const rows: EndpointRow[] = await this.dataSource.query('SELECT e.*, a.auth FROM endpoints e LEFT JOIN endpoint_auth a USING (endpoint_id) WHERE partner_id = $1 AND endpoint_id > $2 ORDER BY endpoint_id LIMIT $3', [
      partnerId,
      after ?? '',
      limit + 1,
    ]);
    const page = rows.slice(0, limit);
    return { items: page.map(viewOfRow), next_cursor: rows.length > limit ? (page.at(-1)?.endpoint_id ?? null) : null };
  }

  /**
   * Runs the command on the partner's endpoint, its row written (or
   * removed) in the append's statement; another partner's endpoint is not
   * found, as one that does not exist.
   */
  private async command(partnerId: string, endpointId: string, command: EndpointCommand, caller: Caller, gateFor?: (after: Endpoint) => SqlPart) {
    const decide = (state: EndpointState) => {
      const creating = command.type === 'CreateEndpoint' && state.status === 'absent';
      if (!creating && (state.status !== 'live' || state.endpoint.partnerId !== partnerId)) throw new EndpointNotFoundError(endpointId);
      return decideEndpoint(command, state);
    };
    const endpointOf = (state: EndpointState): Endpoint => {
      if (state.status === 'absent') throw new EndpointNotFoundError(endpointId);
      return state.endpoint;
    };
    const result = await handleStreamCommand(this.store, this.model, { streamId: endpointStreamId(endpointId), type: command.type, decide }, caller.context, {
      metadataOf: actorOf(caller),
      alongside: (after) => {
        const endpoint = endpointOf(after);
        return [endpointRow(endpoint, after.status === 'deleted'), endpointAuthRow(endpoint.endpointId, endpoint.settings.auth, endpoint.version, after.status === 'deleted')];
      },
      ...(gateFor ? { gate: (after: EndpointState) => gateFor(endpointOf(after)) } : {}),
    });
    return { outcome: result.outcome, endpoint: endpointOf(result.after) };
  }

  /** The endpoint after the command; undefined when the gate was closed (nothing written). */
  private async run(partnerId: string, endpointId: string, command: EndpointCommand, caller: Caller, gateFor?: (after: Endpoint) => SqlPart): Promise<Endpoint | undefined> {
    const { outcome, endpoint } = await this.command(partnerId, endpointId, command, caller, gateFor);
    return outcome === 'gate_closed' ? undefined : endpoint;
  }

  private async mustRun(partnerId: string, endpointId: string, command: EndpointCommand, caller: Caller): Promise<Endpoint> {
    const endpoint = await this.run(partnerId, endpointId, command, caller);
    if (!endpoint) throw new Error('unreachable: a command without a gate is never stopped by one');
    return endpoint;
  }
}

/** What rotating a secret answers: no secret (an Idempotency-Key replay stores it). */
export interface RotationView {
  rotated_at: string;
  previous_valid_until: string | null;
}

const rotationView = (endpoint: Endpoint): RotationView => ({ rotated_at: endpoint.secrets.current.validFrom, previous_valid_until: endpoint.secrets.previous?.validUntil ?? null });

interface EndpointRow {
  endpoint_id: string;
  partner_id: string;
  url: string;
  destination: DestinationView;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: EndpointView['disabled_reason'];
  disabled_detail: string | null;
  disabled_at: Date | null;
  headers: EndpointView['headers'];
  rate_limit_per_second: number | null;
  ordering: EndpointView['ordering'];
  payload_filter: EndpointView['payload_filter'];
  /** From `endpoint_auth`; null when the endpoint has none. */
  auth: EndpointAuthView | null;
  include_personal_data: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

function viewOfRow(row: EndpointRow): EndpointView {
  return {
    id: row.endpoint_id,
    partner_id: row.partner_id,
    url: row.url,
    destination: row.destination,
    description: row.description,
    event_types: row.event_types,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    disabled_detail: row.disabled_detail,
    disabled_at: row.disabled_at?.toISOString() ?? null,
    headers: row.headers,
    rate_limit_per_second: row.rate_limit_per_second,
    ordering: row.ordering,
    payload_filter: row.payload_filter ?? null,
    auth: row.auth ?? null,
    include_personal_data: row.include_personal_data,
    version: row.version,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** The endpoint's row written (or removed), in the append's statement. */
function endpointRow(endpoint: Endpoint, deleted: boolean): SqlPart {
  if (deleted) return { sql: `DELETE FROM endpoints WHERE endpoint_id = $1 AND ${WHEN_APPENDED}`, parameters: [endpoint.endpointId] };
  const v = endpointView(endpoint);
  return {
    sql: `INSERT INTO endpoints (endpoint_id, partner_id, url, description, event_types, enabled, disabled_reason, disabled_detail, disabled_at,
                            headers, rate_limit_per_second, ordering, version, created_at, updated_at, destination,
                            payload_filter, include_personal_data)
     SELECT $1, $2, $3, $4, $5::jsonb, $6::boolean, $7, $8, $9::timestamptz, $10::jsonb, $11::int, $12, $13::int, $14::timestamptz, $15::timestamptz, $16::jsonb,
            $17::jsonb, $18::boolean
      WHERE ${WHEN_APPENDED}
     ON CONFLICT (endpoint_id) DO UPDATE SET
       url = EXCLUDED.url, destination = EXCLUDED.destination, description = EXCLUDED.description, event_types = EXCLUDED.event_types, enabled = EXCLUDED.enabled,
       disabled_reason = EXCLUDED.disabled_reason, disabled_detail = EXCLUDED.disabled_detail, disabled_at = EXCLUDED.disabled_at,
       headers = EXCLUDED.headers, rate_limit_per_second = EXCLUDED.rate_limit_per_second, ordering = EXCLUDED.ordering,
       version = EXCLUDED.version, updated_at = EXCLUDED.updated_at,
       payload_filter = EXCLUDED.payload_filter,
       include_personal_data = EXCLUDED.include_personal_data
     WHERE endpoints.version < EXCLUDED.version`,
    parameters: [
      v.id,
      v.partner_id,
      v.url,
      v.description,
      JSON.stringify(v.event_types),
      v.enabled,
      v.disabled_reason,
      v.disabled_detail,
      v.disabled_at,
      JSON.stringify(v.headers),
      v.rate_limit_per_second,
      v.ordering,
      v.version,
      v.created_at,
      v.updated_at,
      JSON.stringify(v.destination),
      v.payload_filter === null ? null : JSON.stringify(v.payload_filter),
      v.include_personal_data,
    ],
  };
}
