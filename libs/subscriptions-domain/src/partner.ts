/**
 * A partner (a school, a tenant) and its API keys, event-sourced on the
 * stream `partner:{id}`. Keys are stored as SHA-256 hashes only. Pure: no
 * framework, time comes in the command's metadata.
 */
export interface ApiKey {
  keyId: string;
  keyHash: string;
  displayPrefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export type PartnerCreated = { type: 'PartnerCreated'; data: { partnerId: string; name: string; occurredAt: string } };
export type ApiKeyIssued = { type: 'ApiKeyIssued'; data: { partnerId: string; keyId: string; keyHash: string; displayPrefix: string; occurredAt: string } };
/** Carries the whole key record, so the api-keys topic can be fed from this event alone. */
export type ApiKeyRevoked = {
  type: 'ApiKeyRevoked';
  data: { partnerId: string; keyId: string; keyHash: string; displayPrefix: string; createdAt: string; occurredAt: string };
};
export type PartnerEvent = PartnerCreated | ApiKeyIssued | ApiKeyRevoked;

export type Partner = { exists: true; partnerId: string; name: string; createdAt: string; keys: Readonly<Record<string, ApiKey>>; version: number };
export type PartnerState = { exists: false; version: 0 } | Partner;
export const initialPartnerState: PartnerState = { exists: false, version: 0 };

export function evolvePartner(state: PartnerState, event: PartnerEvent): PartnerState {
  switch (event.type) {
    case 'PartnerCreated':
      return { exists: true, partnerId: event.data.partnerId, name: event.data.name, createdAt: event.data.occurredAt, keys: {}, version: state.version + 1 };
    case 'ApiKeyIssued': {
      if (!state.exists) return state;
      const { keyId, keyHash, displayPrefix, occurredAt } = event.data;
      return { ...state, keys: { ...state.keys, [keyId]: { keyId, keyHash, displayPrefix, createdAt: occurredAt, revokedAt: null } }, version: state.version + 1 };
    }
    case 'ApiKeyRevoked': {
      const key = state.exists ? state.keys[event.data.keyId] : undefined;
      if (!state.exists || !key) return state;
      return { ...state, keys: { ...state.keys, [key.keyId]: { ...key, revokedAt: event.data.occurredAt } }, version: state.version + 1 };
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export const foldPartner = (events: readonly PartnerEvent[]): PartnerState => events.reduce(evolvePartner, initialPartnerState);

interface Metadata {
  now: Date;
}
export type CreatePartner = { type: 'CreatePartner'; data: { partnerId: string; name: string }; metadata: Metadata };
export type IssueApiKey = { type: 'IssueApiKey'; data: { keyId: string; keyHash: string; displayPrefix: string }; metadata: Metadata };
export type RevokeApiKey = { type: 'RevokeApiKey'; data: { keyId: string }; metadata: Metadata };
export type PartnerCommand = CreatePartner | IssueApiKey | RevokeApiKey;

export class PartnerNotFoundError extends Error {
  readonly code = 'PARTNER_NOT_FOUND' as const;
  constructor(readonly partnerId: string) {
    super(`There is no partner ${partnerId}.`);
    this.name = 'PartnerNotFoundError';
  }
}

export class PartnerAlreadyExistsError extends Error {
  readonly code = 'PARTNER_ALREADY_EXISTS' as const;
  constructor(readonly partnerId: string) {
    super(`Partner ${partnerId} already exists.`);
    this.name = 'PartnerAlreadyExistsError';
  }
}

export class ApiKeyNotFoundError extends Error {
  readonly code = 'API_KEY_NOT_FOUND' as const;
  constructor(readonly keyId: string) {
    super(`The partner has no API key ${keyId}.`);
    this.name = 'ApiKeyNotFoundError';
  }
}

/** What a command does to a partner. Revoking a revoked key changes nothing (no event). */
export function decidePartner(command: PartnerCommand, state: PartnerState): PartnerEvent[] {
  const occurredAt = command.metadata.now.toISOString();
  switch (command.type) {
    case 'CreatePartner':
      if (state.exists) throw new PartnerAlreadyExistsError(state.partnerId);
      return [{ type: 'PartnerCreated', data: { ...command.data, occurredAt } }];
    case 'IssueApiKey':
      if (!state.exists) throw new PartnerNotFoundError('(unknown)');
      return [{ type: 'ApiKeyIssued', data: { partnerId: state.partnerId, ...command.data, occurredAt } }];
    case 'RevokeApiKey': {
      if (!state.exists) throw new PartnerNotFoundError('(unknown)');
      const key = state.keys[command.data.keyId];
      if (!key) throw new ApiKeyNotFoundError(command.data.keyId);
      if (key.revokedAt !== null) return [];
      const { keyId, keyHash, displayPrefix, createdAt } = key;
      return [{ type: 'ApiKeyRevoked', data: { partnerId: state.partnerId, keyId, keyHash, displayPrefix, createdAt, occurredAt } }];
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}
