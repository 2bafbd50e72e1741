import { createTestDatabase, type TestDatabase } from '@gancho/testing';
import type { DataSource } from 'typeorm';
import { queryRows } from './query-rows';
import { openServiceDataSource } from './service-data-source';

describe('queryRows on a real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('query_rows');
    dataSource = await openServiceDataSource({ url: database.url, schema: 'rows', migrations: [], applicationName: 'gancho-test' });
    await dataSource.query('CREATE TABLE items (id int PRIMARY KEY, label text)');
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('returns the rows of INSERT, SELECT, UPDATE and DELETE … RETURNING alike', async () => {
    expect(await queryRows(dataSource, "INSERT INTO items VALUES (1, 'a'), (2, 'b') RETURNING id")).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await queryRows(dataSource, 'SELECT id FROM items ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    // TypeORM itself answers this one with [rows, count]:
    expect(await dataSource.query("UPDATE items SET label = 'x' RETURNING id")).toHaveLength(2);
    expect(await queryRows(dataSource, "UPDATE items SET label = 'y' WHERE id = 1 RETURNING id, label")).toEqual([{ id: 1, label: 'y' }]);
    expect(await queryRows(dataSource, 'UPDATE items SET label = NULL WHERE id = 99 RETURNING id')).toEqual([]);
    expect(await queryRows(dataSource, 'DELETE FROM items RETURNING id')).toHaveLength(2);
  });
});
