import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import YAML from 'yaml';
import { apps, repoRoot } from './deploy-paths';
import { parseAsService } from './service-config';

// Scenarios: docker-compose.yml is valid against the Compose Specification
// schema kept in compose/ (and a misspelt key is not); Kafka is the test
// broker's version and PostgreSQL is pinned; each service runs migrations
// first, publishes its port, passes its own configuration parse and has a
// readiness health check; the receiver and Jaeger are there.

type Service = {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
};
type ComposeFile = { services: Record<string, Service> };

const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
const compose = YAML.parse(composeText, { merge: true }) as ComposeFile;

function composeValidator() {
  const schema = JSON.parse(readFileSync(join(__dirname, 'compose', 'compose-spec.json'), 'utf8')) as object;
  // The schema's "format": "duration" etc. are Compose's own; they are annotations here.
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(schema);
}

const hostPort = (service: Service, containerPort: string) => service.ports?.map((p) => p.split(':')).find((parts) => parts[parts.length - 1] === containerPort)?.[0];

describe('docker-compose.yml', () => {
  const validate = composeValidator();

  it('is valid against the Compose Specification JSON Schema', () => {
    expect(validate(compose)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
  });

  it('is refused by the schema when a service has an unknown key', () => {
    const broken = YAML.parse(composeText, { merge: true }) as ComposeFile;
    (broken.services.journey as Record<string, unknown>).helthcheck = compose.services.journey!.healthcheck;
    expect(validate(broken)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain('helthcheck');
  });

  it('runs Apache Kafka in KRaft mode at the version of the test broker', () => {
    const pom = readFileSync(join(repoRoot, 'tools', 'kafka', 'pom.xml'), 'utf8');
    const brokerVersion = pom.match(/<kafka\.version>([^<]+)<\/kafka\.version>/)?.[1] ?? pom.match(/<artifactId>kafka_[^<]+<\/artifactId>\s*<version>([^<]+)</)?.[1];
    expect(brokerVersion).toBeDefined();
    const kafka = compose.services.kafka!;
    expect(kafka.image).toBe(`apache/kafka:${brokerVersion}`);
    expect(kafka.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(kafka.environment?.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(kafka.healthcheck?.test.join(' ')).toContain('kafka-broker-api-versions.sh');
  });

  it('pins every image by tag', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect([name, service.image]).toEqual([name, expect.stringMatching(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/)]);
      expect([name, service.image!.endsWith(':latest')]).toEqual([name, false]);
    }
    expect(compose.services.postgres!.image).toMatch(/^postgres:\d+\.\d+$/);
    expect(compose.services.jaeger!.image).toMatch(/^jaegertracing\/jaeger:\d+\.\d+\.\d+$/);
  });

  // npm start's ports (tools/platform/start.mts): one set of URLs for both ways of running the platform.
  it.each(apps.map((app, index) => [app, 4001 + index] as const))('runs %s on host port %i (as npm start) after its migrations, with a configuration it accepts', (app, port) => {
    const service = compose.services[app]!;
    const migrate = compose.services[`${app}-migrate`]!;
    expect(service.image).toBe(`gancho-${app}:local`);
    expect(migrate.image).toBe(service.image);
    expect(migrate.build).toEqual({ context: '.', args: { APP: app } });
    expect(migrate.command).toEqual(['node', 'dist/migrate.js']);
    expect(migrate.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(service.depends_on?.[`${app}-migrate`]?.condition).toBe('service_completed_successfully');
    expect(service.depends_on?.kafka?.condition).toBe('service_healthy');

    const env = service.environment!;
    expect(hostPort(service, env.PORT!)).toBe(String(port));
    expect(new URL(env.DATABASE_URL!).host).toBe('postgres:5432');
    expect(env.KAFKA_BROKERS).toBe('kafka:9092');
    // The service's own zod schema, as at start: a missing or malformed key throws here.
    expect(parseAsService(app, env)).toMatchObject({ PORT: Number(env.PORT) });
    expect(() => parseAsService(app, { ...migrate.environment })).not.toThrow(/DATABASE_URL/);

    const check = service.healthcheck!.test.join(' ');
    expect(check).toContain(`http://127.0.0.1:${env.PORT}/health/ready`);
  });

  it('serves the partner console on :4000 (as npm start), proxying subscriptions and delivery', () => {
    const partnerConsole = compose.services.console!;
    const env = partnerConsole.environment!;
    expect(hostPort(partnerConsole, env.PORT!)).toBe('4000');
    expect(env.SUBSCRIPTIONS_URL).toBe(`http://subscriptions:${compose.services.subscriptions!.environment!.PORT ?? '8080'}`);
    expect(env.DELIVERY_URL).toBe(`http://delivery:${compose.services.delivery!.environment!.PORT ?? '8080'}`);
    expect(partnerConsole.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${env.PORT}/health/ready`);
  });

  it('gives subscriptions (save time) and delivery (send time) the same endpoint network policy', () => {
    const policy = (name: string) => {
      const env = compose.services[name]!.environment!;
      return { http: env.ALLOW_HTTP_ENDPOINTS, private: env.ALLOW_PRIVATE_NETWORK_ENDPOINTS, hosts: env.ALLOWED_ENDPOINT_HOSTS };
    };
    expect(policy('subscriptions')).toEqual(policy('delivery'));
  });

  it('gives subscriptions and delivery the same encryption key list', () => {
    expect(compose.services.delivery!.environment!.SECRETS_ENCRYPTION_KEY).toBe(compose.services.subscriptions!.environment!.SECRETS_ENCRYPTION_KEY);
  });

  it('lets delivery reach the demo receiver and no other private address', () => {
    const receiver = compose.services['demo-receiver']!;
    const env = compose.services.delivery!.environment!;
    expect(env.ALLOWED_ENDPOINT_HOSTS).toBe(`demo-receiver:${receiver.environment!.PORT}`);
    expect(env.ALLOW_PRIVATE_NETWORK_ENDPOINTS).toBeUndefined();
    expect(hostPort(receiver, receiver.environment!.PORT!)).toBe('4099');
    expect(receiver.volumes).toContain('./tools/deploy/demo-receiver/receiver.mjs:/receiver/receiver.mjs:ro');
    expect(receiver.healthcheck!.test.join(' ')).toContain('/health');
  });

  it('has a health check on every long-running service but Jaeger, whose image has no tool to run one', () => {
    const oneShot = Object.keys(compose.services).filter((name) => name.endsWith('-migrate'));
    const withoutCheck = Object.entries(compose.services)
      .filter(([name, service]) => !oneShot.includes(name) && !service.healthcheck)
      .map(([name]) => name);
    expect(withoutCheck).toEqual(['jaeger']);
    expect(hostPort(compose.services.jaeger!, '16686')).toBe('16686');
    expect(hostPort(compose.services.jaeger!, '4318')).toBe('4318');
  });
});
