import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import { extractTraceContext, SpanKind, SpanStatusCode, startSpan, withActiveSpan, type Histogram, type Logger, type Span } from '@gancho/telemetry';
import { ROOT_CONTEXT } from '@opentelemetry/api';

type Middleware = (request: Request, response: Response, next: NextFunction) => void;

/** Probes and scrapes come every few seconds; a span each would bury the traces that matter. */
const untraced = (path: string) => path === '/metrics' || path.startsWith('/health');

const spanOf = new WeakMap<Request, Span>();

/**
 * Two middlewares around the body parser. `begin` (first of all) opens the
 * HTTP server span, continuing the caller's `traceparent`, and on close
 * records `http_server_request_duration_seconds` by route template and ends
 * the span. `resume` (after the body parser) makes that span active again:
 * the parser's stream callbacks run outside the request's async context.
 */
export function httpTelemetry(duration: Histogram<'http_request_method' | 'http_route' | 'http_response_status_code'> | undefined, logger: Logger): { begin: Middleware; resume: Middleware } {
  const begin: Middleware = (request, response, next) => {
    const started = performance.now();
    const method = request.method;
    const span = untraced(request.path)
      ? undefined
      : startSpan(
          method,
          {
            'http.request.method': method,
            'url.path': request.path,
            'url.scheme': request.protocol,
            ...(request.headers['user-agent'] ? { 'user_agent.original': request.headers['user-agent'] } : {}),
          },
          { kind: SpanKind.SERVER, parent: extractTraceContext(request.headers as Record<string, string | undefined>, ROOT_CONTEXT) },
        );
    if (span) spanOf.set(request, span);
    response.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const route = routeOf(request);
      const status = response.statusCode;
      duration?.observe({ http_request_method: method, http_route: route ?? '', http_response_status_code: String(status) }, seconds);
      if (span) {
        if (route) {
          span.updateName(`${method} ${route}`);
          span.setAttribute('http.route', route);
        }
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        if (!response.writableFinished) span.setAttribute('error.type', 'aborted');
        span.end();
      }
      if (span) withActiveSpan(span, () => logger.debug({ context: 'HTTP', method, route, status, duration_ms: Math.round(seconds * 1000) }, 'request served'), ROOT_CONTEXT);
    });
    if (span) withActiveSpan(span, next, ROOT_CONTEXT);
    else next();
  };
  const resume: Middleware = (request, _response, next) => {
    const span = spanOf.get(request);
    if (span) withActiveSpan(span, next, ROOT_CONTEXT);
    else next();
  };
  return { begin, resume };
}

/** The matched route's template (`/purchases/:id`), never the raw path: labels must stay few. */
function routeOf(request: Request): string | undefined {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${request.baseUrl}${path}` : undefined;
}
