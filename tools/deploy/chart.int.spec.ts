import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { apps, chartDir, ensureDeployTools } from './deploy-paths';
import { kubernetesVersion } from './schemas/kinds.mts';

// Scenarios: helm lint passes with the default and the production values;
// every manifest either renders is valid, strictly and offline, against the
// Kubernetes schemas kept in schemas/; an unknown field or a kind with no
// schema fails that check; each service has its Deployment (probes,
// resources, ConfigMap + existing Secret), Service, HPA, PDB and migration
// hook Job; delivery's NetworkPolicy lets it reach the internet only. One
// release per service: delivery renders alone at its own tag, valid, beside a
// main release whose console proxies to the Service the delivery release
// creates; values the schema does not know are refused.

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string> };

const tools = ensureDeployTools();
const schemaLocation = join(__dirname, 'schemas', kubernetesVersion, '{{ .ResourceKind }}{{ .KindSuffix }}.json');
const productionValues = join(chartDir, 'values-production.yaml');

function helm(args: string[]): string {
  return execFileSync(tools.helm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function render(extra: string[] = [], release = 'gancho'): string {
  return helm(['template', release, chartDir, '--namespace', 'gancho', '--kube-version', kubernetesVersion.slice(1), ...extra]);
}

/** helm's error output for values the chart refuses (it must refuse them). */
function refusal(extra: string[]): string {
  try {
    render(extra);
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
  throw new Error(`helm template accepted ${extra.join(' ')}`);
}

const parseAll = (text: string) =>
  YAML.parseAllDocuments(text)
    .map((d) => d.toJSON() as Manifest)
    .filter(Boolean);

/** kubeconform -strict against the local schemas only; never a URL. */
function kubeconform(manifests: string): { ok: boolean; output: string; summary: { valid: number; invalid: number; errors: number; skipped: number } } {
  const dir = mkdtempSync(join(tmpdir(), 'gancho-kubeconform-'));
  const file = join(dir, 'manifests.yaml');
  writeFileSync(file, manifests);
  const args = ['-strict', '-summary', '-output', 'json', '-schema-location', schemaLocation, file];
  let output: string;
  let ok = true;
  try {
    output = execFileSync(tools.kubeconform, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    ok = false;
    output = String((error as { stdout?: string }).stdout);
  }
  const summary = (JSON.parse(output) as { summary: { valid: number; invalid: number; errors: number; skipped: number } }).summary;
  return { ok, output, summary };
}

const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
const named = (manifests: Manifest[], kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

describe('Helm chart k8s/gancho', () => {
  const defaultText = render();
  const productionText = render(['-f', productionValues]);
  const defaults = parseAll(defaultText);
  const production = parseAll(productionText);

  it.each([
    ['default', []],
    ['production', ['-f', productionValues]],
  ])('passes helm lint with the %s values', (_name, extra) => {
    expect(helm(['lint', '--strict', chartDir, '--kube-version', kubernetesVersion.slice(1), ...extra])).toContain('0 chart(s) failed');
  });

  it.each([
    ['default', () => defaultText, () => defaults],
    ['production', () => productionText, () => production],
  ])('renders, with the %s values, manifests that are all valid strictly against Kubernetes schemas', (_name, text, manifests) => {
    const result = kubeconform(text());
    expect(result.output).not.toContain('could not find schema');
    expect(result).toMatchObject({ ok: true, summary: { valid: manifests().length, invalid: 0, errors: 0, skipped: 0 } });
  });

  it('fails the check for a manifest with an unknown field', () => {
    const broken = parseAll(defaultText);
    const deployment = named(broken, 'Deployment', 'gancho-journey');
    deployment.spec.template.spec.containers[0].livenessProbe.httpGett = { path: '/health/live', port: 'http' };
    const result = kubeconform(broken.map((m) => YAML.stringify(m)).join('---\n'));
    expect(result.ok).toBe(false);
    expect(result.summary.invalid).toBe(1);
    expect(result.output).toContain('httpGett');
  });

  it('fails the check for a field of the wrong type, and for a kind it has no schema for', () => {
    const broken = parseAll(defaultText);
    named(broken, 'HorizontalPodAutoscaler', 'gancho-delivery').spec.maxReplicas = 'many';
    expect(kubeconform(broken.map((m) => YAML.stringify(m)).join('---\n')).summary.invalid).toBe(1);
    const unknownKind = kubeconform(YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, stringData: { a: 'b' } }));
    expect(unknownKind).toMatchObject({ ok: false, summary: { errors: 1 } });
  });

  it.each(apps)('deploys %s with probes, resources, its ConfigMap and the existing Secret', (app) => {
    const name = `gancho-${app}`;
    const deployment = named(defaults, 'Deployment', name);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe(`ghcr.io/gancho/gancho-${app}:0.1.0`);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(container.resources).toEqual({ requests: { cpu: expect.anything(), memory: expect.any(String) }, limits: { cpu: expect.anything(), memory: expect.any(String) } });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    // The image's CMD (its Node flags are checked against npm start's in the Dockerfile test), not an override.
    expect(container.command).toBeUndefined();
    expect(container.envFrom).toEqual([{ configMapRef: { name } }]);
    expect(named(defaults, 'ConfigMap', name).data).toMatchObject({ PORT: '8080' });
    const secretRefs = (container.env as { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }[]).map((e) => [e.name, e.valueFrom.secretKeyRef.name]);
    expect(secretRefs).toEqual(
      expect.arrayContaining([
        ['DATABASE_URL', 'gancho-secrets'],
        ['KAFKA_BROKERS', 'gancho-secrets'],
      ]),
    );
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });

    expect(named(defaults, 'Service', name).spec.ports[0]).toMatchObject({ port: 80, targetPort: 'http' });
    expect(named(defaults, 'HorizontalPodAutoscaler', name).spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
    expect(deployment.spec.replicas).toBeUndefined(); // the HPA owns the count
    expect(named(defaults, 'PodDisruptionBudget', name).spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it.each(apps)('gives %s every variable its own configuration requires, from the ConfigMap or the Secret', (app) => {
    const container = named(defaults, 'Deployment', `gancho-${app}`).spec.template.spec.containers[0];
    const provided = new Set([...Object.keys(named(defaults, 'ConfigMap', `gancho-${app}`).data ?? {}), ...container.env.map((e: { name: string }) => e.name)]);
    const required: Record<string, string[]> = {
      journey: ['DATABASE_URL', 'KAFKA_BROKERS', 'PORT', 'JOURNEY_PLATFORM_TOKENS', 'PERSONAL_DATA_MASTER_KEYS', 'PERSONAL_DATA_INDEX_KEY', 'SECRETS_ENCRYPTION_KEY'],
      subscriptions: ['DATABASE_URL', 'KAFKA_BROKERS', 'PORT', 'SUBSCRIPTIONS_ADMIN_TOKENS', 'SECRETS_ENCRYPTION_KEY'],
      delivery: ['DATABASE_URL', 'KAFKA_BROKERS', 'PORT', 'SECRETS_ENCRYPTION_KEY'],
    };
    expect([...provided].sort()).toEqual(expect.arrayContaining(required[app]!));
    // Least privilege: only journey holds the keys of students' personal data (it seals subject keys for delivery under SECRETS_ENCRYPTION_KEY).
    expect(provided.has('PERSONAL_DATA_MASTER_KEYS')).toBe(app === 'journey');
    expect(provided.has('PERSONAL_DATA_INDEX_KEY')).toBe(app === 'journey');
  });

  it.each(apps)('migrates %s in a pre-install/pre-upgrade hook Job that reads only the database URL', (app) => {
    const job = named(defaults, 'Job', `gancho-${app}-migrate`);
    expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
    const container = job.spec.template.spec.containers[0];
    expect(container.image).toBe(named(defaults, 'Deployment', `gancho-${app}`).spec.template.spec.containers[0].image);
    expect(container.command).toEqual(['node', '--enable-source-maps', 'dist/migrate.js']);
    expect(container.env).toEqual([{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'gancho-secrets', key: 'DATABASE_URL' } } }]);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('lets delivery reach the internet but no private, CGNAT, link-local or loopback range; DNS, Kafka and PostgreSQL explicitly', () => {
    const [policy, ...others] = byKind(defaults, 'NetworkPolicy');
    expect(others).toEqual([]);
    expect(policy!.spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe('delivery');
    expect(policy!.spec.policyTypes).toEqual(['Egress']);
    const [internet, dns, kafka, postgres] = policy!.spec.egress;
    expect(internet.to[0].ipBlock.cidr).toBe('0.0.0.0/0');
    expect(internet.to[0].ipBlock.except).toEqual(expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '127.0.0.0/8']));
    expect(internet.to[1].ipBlock).toEqual({ cidr: '::/0', except: expect.arrayContaining(['fc00::/7', 'fe80::/10', '::1/128']) });
    expect(internet.ports).toBeUndefined();
    expect(dns.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    expect(kafka.ports).toEqual([{ protocol: 'TCP', port: 9092 }]);
    expect(postgres.ports).toEqual([{ protocol: 'TCP', port: 5432 }]);
  });

  it('renders a ServiceMonitor per service only when asked, and production asks', () => {
    expect(byKind(defaults, 'ServiceMonitor')).toEqual([]);
    expect(
      byKind(production, 'ServiceMonitor')
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual(apps.map((a) => `gancho-${a}`).sort());
  });

  it('renders nothing for a disabled service', () => {
    const manifests = parseAll(render(['--set', 'services.journey.enabled=false', '--set', 'console.enabled=false']));
    expect(manifests.filter((m) => m.metadata.name.startsWith('gancho-journey'))).toEqual([]);
    expect(byKind(manifests, 'Deployment')).toHaveLength(2);
  });

  it('deploys the console without the Secret, pointed at the subscriptions and delivery Services', () => {
    const deployment = named(defaults, 'Deployment', 'gancho-console');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe('ghcr.io/gancho/gancho-console:0.1.0');
    expect(container.command).toBeUndefined();
    expect(Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]))).toEqual({
      PORT: '8080',
      HOST: '0.0.0.0',
      SUBSCRIPTIONS_URL: 'http://gancho-subscriptions',
      DELIVERY_URL: 'http://gancho-delivery',
      CONSOLE_FRAME_ANCESTORS: "'none'",
    });
    expect(JSON.stringify(deployment)).not.toContain('gancho-secrets');
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(named(defaults, 'Service', 'gancho-console').spec.ports[0]).toMatchObject({ port: 80, targetPort: 'http' });
    expect(byKind(defaults, 'Job').map((j) => j.metadata.name)).not.toContain('gancho-console-migrate');
    const embedded = parseAll(render(['--set', 'console.frameAncestors=https://dashboard.example.com']));
    const env = named(embedded, 'Deployment', 'gancho-console').spec.template.spec.containers[0].env as { name: string; value: string }[];
    expect(env.find((e) => e.name === 'CONSOLE_FRAME_ANCESTORS')?.value).toBe('https://dashboard.example.com');
  });
});

describe('one release per service (only), each at its own tag', () => {
  // The main release without delivery at 0.2.0, delivery as its own release one version behind.
  const mainText = render(['--set', 'image.tag=0.2.0', '--set', 'services.delivery.enabled=false']);
  const deliveryText = render(['--set', 'only=delivery', '--set', 'image.tag=0.2.0', '--set', 'services.delivery.image.tag=0.1.0'], 'gancho-delivery');
  const main = parseAll(mainText);
  const delivery = parseAll(deliveryText);
  const version = (m: Manifest & { metadata: { labels?: Record<string, string> } }) => m.metadata.labels?.['app.kubernetes.io/version'];

  it('renders delivery alone, at its own tag and version label, and nothing else', () => {
    expect(delivery.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'NetworkPolicy', 'PodDisruptionBudget', 'Service']
        .map((kind) => `${kind}/gancho-delivery${kind === 'Job' ? '-migrate' : kind === 'NetworkPolicy' ? '-egress' : ''}`)
        .sort(),
    );
    const deployment = named(delivery, 'Deployment', 'gancho-delivery');
    expect(deployment.spec.template.spec.containers[0].image).toBe('ghcr.io/gancho/gancho-delivery:0.1.0');
    expect(named(delivery, 'Job', 'gancho-delivery-migrate').spec.template.spec.containers[0].image).toBe('ghcr.io/gancho/gancho-delivery:0.1.0');
    expect(new Set(delivery.map(version))).toEqual(new Set(['0.1.0']));
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('0.1.0');
    // The others, in the main release, at the global tag.
    for (const app of ['journey', 'subscriptions', 'console']) {
      expect(named(main, 'Deployment', `gancho-${app}`).spec.template.spec.containers[0].image).toBe(`ghcr.io/gancho/gancho-${app}:0.2.0`);
      expect(version(named(main, 'Deployment', `gancho-${app}`))).toBe('0.2.0');
    }
    expect(main.filter((m) => m.metadata.name.startsWith('gancho-delivery'))).toEqual([]);
  });

  it('renders manifests kubeconform accepts strictly, for the delivery release and the main one', () => {
    for (const [text, manifests] of [
      [deliveryText, delivery],
      [mainText, main],
    ] as const) {
      const result = kubeconform(text);
      expect(result).toMatchObject({ ok: true, summary: { valid: manifests.length, invalid: 0, errors: 0, skipped: 0 } });
    }
  });

  it("points the main release's console at the Service the delivery release creates, which selects that release's pods", () => {
    const env = named(main, 'Deployment', 'gancho-console').spec.template.spec.containers[0].env as { name: string; value: string }[];
    const deliveryHost = new URL(env.find((e) => e.name === 'DELIVERY_URL')!.value).hostname;
    const service = named(delivery, 'Service', deliveryHost);
    const podLabels = named(delivery, 'Deployment', 'gancho-delivery').spec.template.metadata.labels as Record<string, string>;
    expect(Object.entries(service.spec.selector).every(([key, value]) => podLabels[key] === value)).toBe(true);
    // Subscriptions stays in the main release, under the same name.
    expect(named(main, 'Service', new URL(env.find((e) => e.name === 'SUBSCRIPTIONS_URL')!.value).hostname)).toBeDefined();
    // The two releases never render the same object, and together render what the all-in-one release does.
    const ids = (manifests: Manifest[]) => manifests.map((m) => `${m.kind}/${m.metadata.name}`);
    expect(ids(main).filter((id) => ids(delivery).includes(id))).toEqual([]);
    expect([...ids(main), ...ids(delivery)].sort()).toEqual(ids(parseAll(render())).sort());
  });

  it('names resources by installation, not by release: another release name renders the same names', () => {
    const renamed = parseAll(render(['--set', 'only=delivery'], 'payments-delivery'));
    expect(renamed.map((m) => m.metadata.name).sort()).toEqual(delivery.map((m) => m.metadata.name).sort());
    const second = parseAll(render(['--set', 'installation=gancho-staging']));
    const env = named(second, 'Deployment', 'gancho-staging-console').spec.template.spec.containers[0].env as { name: string; value: string }[];
    expect(env.find((e) => e.name === 'DELIVERY_URL')?.value).toBe('http://gancho-staging-delivery');
    expect(named(second, 'Service', 'gancho-staging-delivery').spec.selector['app.kubernetes.io/instance']).toBe('gancho-staging');
  });

  it('passes helm lint --strict in the per-service mode, for every service', () => {
    for (const only of ['journey', 'subscriptions', 'delivery', 'console']) {
      expect(helm(['lint', '--strict', chartDir, '--kube-version', kubernetesVersion.slice(1), '-f', productionValues, '--set', `only=${only}`])).toContain('0 chart(s) failed');
    }
  });

  it.each([
    [['--set', 'services.delivery.image.tga=0.1.0'], "at '/services/delivery/image': additional properties 'tga' not allowed"],
    [['--set', 'services.delivery.imageTag=0.1.0'], "at '/services/delivery': additional properties 'imageTag' not allowed"],
    [['--set', 'services.delivry.enabled=false'], "at '/services': additional properties 'delivry' not allowed"],
    [['--set', 'imag.tag=0.1.0'], "additional properties 'imag' not allowed"],
    [['--set', 'only=deliver'], "at '/only': value must be one of"],
    [['--set', 'console.image.tag=a tag'], "at '/console/image/tag'"],
  ])('refuses values the schema does not know: %j', (extra, message) => {
    expect(refusal(extra)).toContain(message);
  });
});

describe('the helm commands of the deploy documents', () => {
  const documents = ['k8s/gancho/README.md', 'docs/deploy.md'];
  /** Each sh block's commands, continuation lines joined. */
  const blocks = (file: string) =>
    [...readFileSync(join(chartDir, '..', '..', file), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
      m[1]!
        .replace(/\\\n\s*/g, ' ')
        .split('\n')
        .map((line) => line.replace(/\s+#.*$/, '').trim())
        .filter(Boolean),
    );

  it.each(documents)('%s: every helm install, upgrade and template command renders offline with its values', (file) => {
    const commands = blocks(file)
      .flat()
      .filter((line) => /^helm (upgrade|install|template)\b/.test(line));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      // Rendered as `helm template`, as an install would (offline: no cluster to upgrade); placeholders get a tag.
      const words = command
        .replace(/<[^>]+>/g, '0.1.0')
        .split(/\s+/)
        .slice(1)
        .filter((w) => !['--install', '--reuse-values', '--wait'].includes(w));
      if (words[0] === 'template') expect({ command, kubeVersion: words.includes('--kube-version') }).toEqual({ command, kubeVersion: true });
      const args = ['template', ...words.slice(1).map((w) => (w === 'k8s/gancho' ? chartDir : w.replace(/^k8s\/gancho\//, `${chartDir}/`)))];
      if (!args.includes('--kube-version')) args.push('--kube-version', kubernetesVersion.slice(1));
      expect(() => helm(args)).not.toThrow();
    }
  });

  it.each(documents)('%s: a Secret created for an install has the name its values file expects', (file) => {
    const existingSecret = (values: string) => (YAML.parse(readFileSync(join(chartDir, values), 'utf8')) as { existingSecret: string }).existingSecret;
    for (const block of blocks(file)) {
      const created = block.join(' ').match(/create secret generic (\S+)/)?.[1];
      const values = block.join(' ').match(/-f k8s\/gancho\/(values[\w-]*\.yaml)/)?.[1] ?? 'values.yaml';
      if (created) expect({ file, created }).toEqual({ file, created: existingSecret(values) });
    }
  });
});

describe('the chart README', () => {
  it('documents every value of values.yaml', () => {
    const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');
    const values = YAML.parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const keys: string[] = [];
    const walk = (node: unknown, path: string) => {
      // Maps passed through whole (labels, selectors, resources, security contexts) are documented as one value.
      const wholeValue = /(Selector|config|Config|secretEnv|resources|SecurityContext)$/.test(path);
      if (node && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0 && !wholeValue) {
        for (const [key, value] of Object.entries(node)) walk(value, path ? `${path}.${key}` : key);
      } else {
        keys.push(path.replace(/^services\.(journey|subscriptions|delivery)\./, 'services.<name>.'));
      }
    };
    walk(values, '');
    const undocumented = [...new Set(keys)].filter((key) => !readme.includes(`\`${key}\``));
    expect(undocumented).toEqual([]);
  });
});
