import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** OpenTelemetry's advice for `http.server.request.duration` and `http.client.request.duration` (seconds). */
export const httpDurationBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * A service's own registry (several services share a process in tests, so
 * nothing goes to prom-client's global one), with Node's process metrics.
 */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `http.server.request.duration`, in Prometheus naming, with OpenTelemetry's attribute names as labels. */
export function httpServerDuration(registry: Registry): Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'> {
  return new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests (OpenTelemetry http.server.request.duration).',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
    buckets: [...httpDurationBuckets],
    registers: [registry],
  });
}

/** `text/plain; version=0.0.4` and the exposition of every metric of the registry. */
export async function renderMetrics(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export type MetricsGauge<L extends string = string> = Gauge<L>;
export type MetricsCounter<L extends string = string> = Counter<L>;
