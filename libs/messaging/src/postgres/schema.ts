/**
 * Tables of the PostgreSQL event transport, in a schema of their own that
 * every service on the database shares (one log, like one Kafka cluster).
 *
 * - `topics`: name, partition count (fixed at creation, as in Kafka), compacted flag.
 * - `partitions`: one counter row per (topic, partition): `next_offset` is the
 *   offset the next published message gets. Publishers lock it (UPDATE) in
 *   their transaction, so offsets are dense and commit in offset order.
 * - `messages`: the log, keyed by (topic, partition, offset).
 * - `group_offsets`: per consumer group and partition, the next offset to read.
 * - `group_members`: live consumers per group, to count fair shares; a row
 *   names the backend of the member's session connection.
 */
export function schemaStatements(schema: string): string[] {
  const s = quoteIdentifier(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.topics (
       name text PRIMARY KEY,
       partitions integer NOT NULL CHECK (partitions > 0),
       compacted boolean NOT NULL DEFAULT false,
       created_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE TABLE IF NOT EXISTS ${s}.partitions (
       topic text NOT NULL REFERENCES ${s}.topics (name) ON DELETE CASCADE,
       partition integer NOT NULL,
       next_offset bigint NOT NULL DEFAULT 0,
       PRIMARY KEY (topic, partition)
     )`,
    `CREATE TABLE IF NOT EXISTS ${s}.messages (
       topic text NOT NULL,
       partition integer NOT NULL,
       "offset" bigint NOT NULL,
       key text,
       value bytea NOT NULL,
       headers jsonb NOT NULL DEFAULT '{}',
       "timestamp" timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (topic, partition, "offset")
     )`,
    `CREATE TABLE IF NOT EXISTS ${s}.group_offsets (
       group_id text NOT NULL,
       topic text NOT NULL,
       partition integer NOT NULL,
       next_offset bigint NOT NULL,
       committed_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (group_id, topic, partition)
     )`,
    `CREATE TABLE IF NOT EXISTS ${s}.group_members (
       group_id text NOT NULL,
       member_id text NOT NULL,
       backend_pid integer NOT NULL,
       topics text[] NOT NULL,
       heartbeat_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (group_id, member_id)
     )`,
  ];
}

/** Schema names are interpolated into SQL, so only plain identifiers are accepted. */
export function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`not a plain lower-case SQL identifier: ${JSON.stringify(name)}`);
  }
  return `"${name}"`;
}
