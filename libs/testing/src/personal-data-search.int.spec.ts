import { Client } from 'pg';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { kafkaBrokers } from './env';
import { searchDatabase, searchKafkaTopics, searchLogOutput } from './personal-data-search';
import { createTestDatabase, type TestDatabase } from './test-database';
import { uniqueName } from './unique';

// The byte searches on the real PostgreSQL and the real broker's files: a name and an e-mail
// written as text, jsonb and bytea in two schemas are each found by table and row (the bytea
// by its hex form, the e-mail whatever its case); records produced to a topic are found in its
// segment file by batch offset; a compressed batch and an unknown topic are refused instead of
// finding nothing; log output is searched line by line.
describe('searching bytes for personal data', () => {
  const name = 'Ana Procurada';
  const email = 'ana.procurada@example.com';
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('byte_search');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('finds needles in every schema of a database, as text, jsonb and bytea', async () => {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('CREATE SCHEMA journey; CREATE SCHEMA delivery');
      await client.query('CREATE TABLE journey.purchases (id text, student jsonb); CREATE TABLE delivery.held (id text, value bytea, note text)');
      await client.query('INSERT INTO journey.purchases VALUES ($1, $2), ($3, $4)', ['p1', JSON.stringify({ name: 'Someone Else' }), 'p2', JSON.stringify({ name, email: email.toUpperCase() })]);
      await client.query('INSERT INTO delivery.held VALUES ($1, $2, $3)', ['h1', Buffer.from(`{"email":"${email}"}`), 'nothing here']);
    } finally {
      await client.end();
    }

    const hits = await searchDatabase(database.url, [name, email]);
    expect(hits.map(({ needle, where, form }) => ({ needle, where: where.replace(database.name, 'DB'), form }))).toEqual([
      { needle: email, where: 'database DB table delivery.held row 1', form: 'hex' },
      { needle: name, where: 'database DB table journey.purchases row 2', form: 'text' },
      { needle: email, where: 'database DB table journey.purchases row 2', form: 'text' },
    ]);
    expect(await searchDatabase(database.url, ['ana.outra@example.com'])).toEqual([]);
  });

  it('finds needles in the raw segment files of a topic, and refuses what it cannot search', async () => {
    const kafka = new Kafka({ clientId: 'byte-search-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer();
    const [plain, compressed] = [uniqueName('test.byte-search'), uniqueName('test.byte-search-gzip')];
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      await admin.createTopics({ topics: [plain, compressed].map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
      await producer.send({
        topic: plain,
        messages: [
          { key: 'k', value: 'no one' },
          { key: 'k', value: JSON.stringify({ student: { name, email } }) },
        ],
      });
      await producer.send({ topic: compressed, compression: CompressionTypes.GZIP, messages: [{ value: JSON.stringify({ email }) }] });
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }

    // Acknowledged records are in the segment file already (written before the ack; no flush needed to read it).
    const hits = await searchKafkaTopics([plain], [name, email]);
    expect(hits.map(({ needle, form }) => ({ needle, form }))).toEqual([
      { needle: name, form: 'text' },
      { needle: email, form: 'text' },
    ]);
    expect(hits[0]!.where).toMatch(new RegExp(`^kafka .*/${plain.replace(/\./g, '\\.')}-0/0{20}\\.log batch at offset 0$`));
    expect(await searchKafkaTopics([plain], ['ana.outra@example.com'])).toEqual([]);
    await expect(searchKafkaTopics([compressed], [email])).rejects.toThrow(/is compressed \(codec 1\)/);
    await expect(searchKafkaTopics([uniqueName('test.never-created')], [email])).rejects.toThrow(/has no partition folder/);
  });

  it('finds needles in log output by line', () => {
    const output = `{"msg":"started"}\n{"msg":"purchase opened","who":"${email}"}\n{"msg":"ok"}\n`;
    expect(searchLogOutput('journey', output, [email, name])).toEqual([{ needle: email, where: 'journey line 2', form: 'text', excerpt: expect.stringContaining(email) }]);
    expect(searchLogOutput('journey', '{"msg":"ok"}', [email])).toEqual([]);
  });
});
