import { applyDecorators, type INestApplication } from '@nestjs/common';
import { ApiExtension, ApiQuery, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { z, type ZodType } from 'zod';
import { httpStatusByErrorCode, httpStatusOf } from './error-statuses';
import { problemDetails } from './problem';

export interface OpenApiInfo {
  title: string;
  description: string;
  version?: string;
  /** Name of the bearer scheme the routes declare with `@ApiBearerAuth(name)`. */
  bearerSchemes?: string[];
  /** OpenAPI 3.1 `webhooks`: the calls the service's side of the platform makes to partners. */
  webhooks?: Record<string, unknown>;
  /** Schemas the webhooks refer to, added to `components.schemas`. */
  schemas?: Record<string, unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** The request schema, for `@ApiBody({ schema })`: the zod schema that validates is the one documented (JSON Schema 2020-12, as OpenAPI 3.1 reads it). */
export function openApiSchema(schema: ZodType): Json {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Json;
  return json;
}

/** One `in: query` parameter per property of the zod schema that validates the query (`parseOrThrow(schema, query, 'query')`). */
export function ApiQueryFrom(schema: ZodType): MethodDecorator {
  const json = openApiSchema(schema);
  const required = new Set<string>(json['required'] ?? []);
  const properties = (json['properties'] ?? {}) as Record<string, Json>;
  return applyDecorators(
    ...Object.entries(properties).map(([name, property]) => {
      const { description, default: defaultValue, ...rest } = property;
      // A defaulted parameter may be left out: it is optional to the caller.
      return ApiQuery({ name, required: required.has(name) && defaultValue === undefined, ...(description ? { description } : {}), schema: { ...rest, ...(defaultValue === undefined ? {} : { default: defaultValue }) } });
    }),
  );
}

const problemCodesExtension = 'x-problem-codes';

/**
 * The stable error codes a route answers besides those every route of its
 * kind does (see `commonProblemCodes`): each becomes a problem+json response
 * of its status in the document.
 */
export function ApiProblems(...codes: string[]): MethodDecorator {
  for (const code of codes) if (!(code in httpStatusByErrorCode)) throw new Error(`unknown error code ${code}`);
  return ApiExtension(problemCodesExtension, codes) as MethodDecorator;
}

/** The RFC 9457 body every error answer has. */
export const problemSchema: Json = {
  type: 'object',
  description: 'RFC 9457 problem details with a stable `code` (the field to branch on; `detail` is for people and may change).',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string', description: 'A URI naming the problem (https://docs.gancho.dev/problems/<code>).' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', description: 'The stable code.' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'For VALIDATION_FAILED: each field and what is wrong with it.',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
    retry_after_seconds: { type: 'integer', description: 'For RATE_LIMITED: when to try again.' },
  },
  additionalProperties: true,
};

const exampleDetails: Record<string, string> = {
  VALIDATION_FAILED: 'The request body is invalid.',
  UNAUTHORIZED: 'A valid bearer token is required.',
  RATE_LIMITED: 'Too many requests with this API key; retry in 1 s.',
  ILLEGAL_TRANSITION: 'A purchase in status analysis cannot take this command.',
};

/** The codes an operation can answer by its shape alone: auth, body, query, idempotency, and the service itself. */
function commonProblemCodes(operation: Json): string[] {
  const codes: string[] = [];
  const security = (operation['security'] ?? []) as Json[];
  const schemes = security.flatMap((requirement) => Object.keys(requirement));
  if (schemes.length > 0) codes.push('UNAUTHORIZED');
  if (schemes.includes('partner')) codes.push('RATE_LIMITED');
  const parameters = (operation['parameters'] ?? []) as Json[];
  // A path parameter holding a slash (or nothing) matches no route.
  if (parameters.some((p) => p['in'] === 'path')) codes.push('ROUTE_NOT_FOUND');
  if (operation['requestBody']) codes.push('VALIDATION_FAILED', 'MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  if (parameters.some((p) => p['in'] === 'query')) codes.push('VALIDATION_FAILED');
  if (parameters.some((p) => p['in'] === 'header' && String(p['name']).toLowerCase() === 'idempotency-key')) codes.push('IDEMPOTENCY_KEY_INVALID', 'IDEMPOTENCY_KEY_REUSED');
  codes.push('INTERNAL_ERROR', 'DATABASE_UNAVAILABLE');
  return codes;
}

/** Adds a problem+json response per error status, naming its codes (an enum a client can switch on) with an example of each. */
function documentProblems(document: OpenAPIObject): void {
  document.components ??= {};
  document.components.schemas = { Problem: problemSchema, ...(document.components.schemas ?? {}) };
  // One example per code, referred to by every response that can carry it.
  const examples = (document.components.examples ??= {}) as Json;
  for (const pathItem of Object.values(document.paths) as Json[]) {
    for (const operation of Object.values(pathItem) as Json[]) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      const declared = (operation[problemCodesExtension] ?? []) as string[];
      delete operation[problemCodesExtension];
      const byStatus = new Map<number, Set<string>>();
      for (const code of [...commonProblemCodes(operation), ...declared]) {
        const status = httpStatusOf(code);
        byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
      }
      for (const [status, codes] of [...byStatus.entries()].sort(([a], [b]) => a - b)) {
        const list = [...codes].sort();
        for (const code of list) examples[code] ??= { summary: code, value: problemDetails(code, exampleDetails[code] ?? `${code.toLowerCase().replace(/_/g, ' ')}.`) };
        // A response the route documents itself (health's 503 JSON report) keeps its own media types beside problem+json.
        const own = operation['responses'][String(status)] as Json | undefined;
        operation['responses'][String(status)] = {
          description: own?.['description'] ? `${own['description']} Problem: ${list.join(', ')}.` : `Problem: ${list.join(', ')}.`,
          content: {
            ...((own?.['content'] as Json | undefined) ?? {}),
            'application/problem+json': {
              schema: { allOf: [{ $ref: '#/components/schemas/Problem' }, { type: 'object', properties: { status: { const: status }, code: { enum: list } } }] },
              examples: Object.fromEntries(list.map((code) => [code, { $ref: `#/components/examples/${code}` }])),
            },
          },
        };
      }
    }
  }
}

/** The service's OpenAPI 3.1 document: its routes, their query parameters and problem+json answers, and any webhooks it declares. */
export function buildOpenApiDocument(app: INestApplication, info: OpenApiInfo): OpenAPIObject {
  let builder = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle(info.title)
    .setDescription(info.description)
    .setVersion(info.version ?? '1.0.0');
  for (const scheme of info.bearerSchemes ?? []) builder = builder.addBearerAuth({ type: 'http', scheme: 'bearer' }, scheme);
  const document = SwaggerModule.createDocument(app, builder.build());
  documentProblems(document);
  if (info.webhooks) (document as Json)['webhooks'] = info.webhooks;
  if (info.schemas) Object.assign(document.components?.schemas ?? {}, info.schemas);
  return document;
}

/** Serves the OpenAPI document at /docs (UI) and /docs-json. */
export function setupOpenApi(app: INestApplication, info: OpenApiInfo): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app, info), { jsonDocumentUrl: 'docs-json', raw: ['json'] });
}
