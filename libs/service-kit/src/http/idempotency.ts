import { hash } from 'node:crypto';
import { queryRows } from '@gancho/persistence';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { retryableErrorCodes } from './error-statuses';
import { ProblemError } from './problem';
import { toProblem } from './problem-details.filter';

export class CreateIdempotencyKeys1764300000001 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1764300000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope         text        NOT NULL,
        key           text        NOT NULL,
        request_hash  text        NOT NULL,
        status_code   int         NOT NULL,
        response_body jsonb,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )`);
    await q.query('CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys');
  }
}

export interface HttpOutcome {
  status: number;
  body: unknown;
}

/** A request's Idempotency-Key, where it counts (`scope`), and what the request was (its fingerprint). */
export interface IdempotencyKey {
  scope: string;
  key: string;
  fingerprint: string;
}

/** A statement and its values (the shape `appendToStream` of @gancho/event-store takes as its gate). */
export interface IdempotencyClaim {
  sql: string;
  parameters: unknown[];
}

const keyFormat = /^[\x21-\x7e]{1,255}$/;

/** JSON with sorted keys, so the same body written in another order hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestFingerprint(request: Request): string {
  return hash('sha256', `${request.method} ${request.originalUrl}\n${canonicalJson(request.body)}`);
}

/** An answer's claim of the request's key, for the write to commit with (its gate). */
export type ClaimOf<T> = (body: T) => IdempotencyClaim;

/**
 * Answers a write at most once per `Idempotency-Key`, without holding a
 * transaction of its own: the write commits the key's record, with the
 * answer, together with its changes — as the gate of its one statement, or
 * inside the transaction its handler opens — so a crash leaves all or none.
 * A second request with the key waits on the first one's record, then
 * replays its answer; the same key with another body is refused (422).
 * Refusals (4xx) are stored like answers; outcomes that may change on a
 * retry (5xx, version conflicts) are not, so the client can retry with the
 * same key.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Runs `write` and sends its answer (`status` with the body it returns).
   * With a key, `write` gets the key's claim for the body it will answer
   * and returns undefined when the claim found the key taken (it wrote
   * nothing); the stored answer is sent instead.
   */
  async respond<T>(scope: string, request: Request, response: Response, status: number, write: (claim: ClaimOf<T> | undefined) => Promise<T | undefined>): Promise<void> {
    const key = this.keyOf(scope, request);
    let outcome: HttpOutcome & { replayed: boolean };
    try {
      const body = await write(key ? (answer) => this.claim(key, { status, body: answer }) : undefined);
      if (body !== undefined) outcome = { status, body, replayed: false };
      else {
        const earlier = key && (await this.stored(key));
        if (!earlier) throw new Error('unreachable: only an idempotency key that is taken stops a write');
        outcome = earlier;
      }
    } catch (error) {
      if (!key) throw error;
      outcome = await this.answerRefusal(key, request, error);
    }
    send(response, outcome);
  }

  /** The request's key, checked (400 when malformed); undefined without one. */
  keyOf(scope: string, request: Request): IdempotencyKey | undefined {
    const key = request.header('idempotency-key');
    if (key === undefined) return undefined;
    if (!keyFormat.test(key)) throw new ProblemError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
    return { scope, key, fingerprint: requestFingerprint(request) };
  }

  /**
   * Claims the key with its answer, as one write of the caller's statement
   * or transaction: it returns a row only if the key was free, and a second
   * request with the key waits on the first one's row until it commits. No
   * row: the key is taken, and `stored` has its answer.
   */
  claim(key: IdempotencyKey, outcome: HttpOutcome): IdempotencyClaim {
    return {
      sql: `INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response_body) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT DO NOTHING RETURNING 1`,
      parameters: [key.scope, key.key, key.fingerprint, outcome.status, JSON.stringify(outcome.body)],
    };
  }

  /** The answer stored under the key, to replay; 422 if another request used it; undefined if it is free. */
  async stored(key: IdempotencyKey): Promise<(HttpOutcome & { replayed: true }) | undefined> {
    const [earlier] = await queryRows<{ request_hash: string; status_code: number; response_body: unknown }>(
      this.dataSource,
      'SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2',
      [key.scope, key.key],
    );
    return earlier ? replayOf(earlier, key.fingerprint) : undefined;
  }

  /**
   * The answer for a keyed request whose write threw `error` before storing
   * anything: the stored answer if the key was used meanwhile; else a refusal
   * (4xx, not retryable) stored under the key and answered; else the error.
   */
  private async answerRefusal(key: IdempotencyKey, request: Request, error: unknown): Promise<HttpOutcome & { replayed: boolean }> {
    const earlier = await this.stored(key);
    if (earlier) return earlier;
    const problem = toProblem(error);
    if (problem.status >= 500 || retryableErrorCodes.has(problem.code)) throw error;
    const refusal = { status: problem.status, body: { ...problem, instance: request.originalUrl } };
    const claim = this.claim(key, refusal);
    const claimed = await queryRows(this.dataSource, claim.sql, claim.parameters);
    if (claimed.length > 0) return { ...refusal, replayed: false };
    const winner = await this.stored(key);
    if (!winner) throw new Error('unreachable: an idempotency key that was taken has no row');
    return winner;
  }

  /** Deletes keys older than the retention; returns how many. */
  async purgeOlderThan(ageMs: number): Promise<number> {
    const rows = await queryRows(this.dataSource, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1) RETURNING 1`, [ageMs / 1000]);
    return rows.length;
  }
}

function replayOf(earlier: { request_hash: string; status_code: number; response_body: unknown }, fingerprint: string): HttpOutcome & { replayed: true } {
  if (earlier.request_hash !== fingerprint) {
    throw new ProblemError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request.');
  }
  return { status: earlier.status_code, body: earlier.response_body, replayed: true };
}

/**
 * Writes the JSON answer straight to the socket: Express's `send` would add
 * an ETag (a SHA-1 of the body), which a write's answer has no use for.
 */
function send(response: Response, outcome: HttpOutcome & { replayed: boolean }): void {
  if (outcome.replayed) response.setHeader('Idempotent-Replayed', 'true');
  const body = JSON.stringify(outcome.body);
  response.statusCode = outcome.status;
  response.setHeader('Content-Type', outcome.status >= 400 ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.end(body);
}
