import { DataSource, type DataSourceOptions, type EntitySchema, type MigrationInterface } from 'typeorm';

export type MigrationClass = new () => MigrationInterface;

export interface ServiceDatabaseOptions {
  /** postgres://… of the server and database this service uses. */
  url: string;
  /** Each service owns one schema; its tables and migration history live there. */
  schema: string;
  migrations: MigrationClass[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: (Function | EntitySchema)[];
  applicationName: string;
  poolSize?: number;
}

const schemaName = /^[a-z_][a-z0-9_]*$/;

export function serviceDataSourceOptions(options: ServiceDatabaseOptions): DataSourceOptions {
  if (!schemaName.test(options.schema)) throw new Error(`invalid schema name: ${options.schema}`);
  return {
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities ?? [],
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    // Schema changes only ever come from migrations.
    synchronize: false,
    migrationsRun: false,
    applicationName: options.applicationName,
    extra: {
      max: options.poolSize ?? 10,
      // Unqualified names in raw SQL resolve to the service's own schema.
      options: `-c search_path=${options.schema},public`,
    },
  };
}

/**
 * Connects, creates the service's schema if it is new, and applies pending
 * migrations in one transaction each. Two replicas starting together are safe:
 * TypeORM takes no lock, so we hold a transaction-level advisory lock per schema.
 */
export function openServiceDataSource(options: ServiceDatabaseOptions): Promise<DataSource> {
  return openMigratedDataSource(serviceDataSourceOptions(options));
}

/** The same, from options that `serviceDataSourceOptions` made (NestJS hands them back to us). */
export async function openMigratedDataSource(options: DataSourceOptions): Promise<DataSource> {
  if (options.type !== 'postgres' || !options.schema) throw new Error('a service data source needs a postgres schema');
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    await migrate(dataSource, options.schema);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

export async function migrate(dataSource: DataSource, schema: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`gancho.migrations.${schema}`]);
    try {
      await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`gancho.migrations.${schema}`]);
    }
  } finally {
    await runner.release();
  }
}
