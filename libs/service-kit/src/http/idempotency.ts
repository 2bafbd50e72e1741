import { hash } from 'node:crypto';
import { queryRows } from '@gancho/persistence';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
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

/** A statement and its values (the shape `appendInOneStatement` of @gancho/event-store takes as its gate). */
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

/**
 * Runs a write at most once per `Idempotency-Key`. The key's record, the
 * write and the stored response commit in ONE transaction: a crash leaves
 * either all or none, and a second request with the same key waits on the
 * first one's row lock, then replays its response. The same key with another
 * body is refused (422). Outcomes that may change on a retry (5xx, version
 * conflicts) are not stored, so the client can retry with the same key.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async respond(scope: string, request: Request, response: Response, work: (manager: EntityManager) => Promise<HttpOutcome>): Promise<void> {
    send(response, await this.execute(scope, request, work));
  }

  /**
   * The request's key, checked (400 when malformed); undefined without one.
   * For writes that store their answer in their own single statement
   * (`claim`) instead of in a transaction this service opens.
   */
  keyOf(scope: string, request: Request): IdempotencyKey | undefined {
    const key = request.header('idempotency-key');
    if (key === undefined) return undefined;
    if (!keyFormat.test(key)) throw new ProblemError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
    return { scope, key, fingerprint: requestFingerprint(request) };
  }

  /**
   * Claims the key with its answer, as one write of the caller's statement:
   * it returns a row only if the key was free, and a second request with the
   * key waits on the first one's row until it commits. No row: the key is
   * taken, and `stored` has its answer.
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
  async answerRefusal(key: IdempotencyKey, request: Request, error: unknown): Promise<HttpOutcome & { replayed: boolean }> {
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

  /** Sends an outcome as `respond` does (problem+json for 4xx/5xx, Idempotent-Replayed on a replay). */
  send(response: Response, outcome: HttpOutcome & { replayed: boolean }): void {
    send(response, outcome);
  }

  async execute(scope: string, request: Request, work: (manager: EntityManager) => Promise<HttpOutcome>): Promise<HttpOutcome & { replayed: boolean }> {
    const key = request.header('idempotency-key');
    if (key === undefined) {
      return { ...(await this.dataSource.transaction((manager) => work(manager))), replayed: false };
    }
    if (!keyFormat.test(key)) {
      throw new ProblemError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
    }
    const fingerprint = requestFingerprint(request);
    return this.dataSource.transaction(async (manager) => {
      const claimed = await manager.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, status_code) VALUES ($1, $2, $3, 0)
         ON CONFLICT DO NOTHING RETURNING key`,
        [scope, key, fingerprint],
      );
      if (claimed.length === 0) {
        const [earlier] = await manager.query('SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
        return replayOf(earlier, fingerprint);
      }

      const outcome = await this.runInSavepoint(manager, work, request);
      await manager.query('UPDATE idempotency_keys SET status_code = $3, response_body = $4 WHERE scope = $1 AND key = $2', [
        scope,
        key,
        outcome.status,
        JSON.stringify(outcome.body),
      ]);
      return { ...outcome, replayed: false };
    });
  }

  /** Deletes keys older than the retention; returns how many. */
  async purgeOlderThan(ageMs: number): Promise<number> {
    const rows = await queryRows(this.dataSource, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1) RETURNING 1`, [ageMs / 1000]);
    return rows.length;
  }

  /** A refused request (4xx) is an outcome to remember; its partial writes, if any, are undone. */
  private async runInSavepoint(manager: EntityManager, work: (manager: EntityManager) => Promise<HttpOutcome>, request: Request): Promise<HttpOutcome> {
    await manager.query('SAVEPOINT idempotent_work');
    try {
      const outcome = await work(manager);
      await manager.query('RELEASE SAVEPOINT idempotent_work');
      return outcome;
    } catch (error) {
      const problem = toProblem(error);
      if (problem.status >= 500 || retryableErrorCodes.has(problem.code)) throw error;
      await manager.query('ROLLBACK TO SAVEPOINT idempotent_work');
      return { status: problem.status, body: { ...problem, instance: request.originalUrl } };
    }
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
