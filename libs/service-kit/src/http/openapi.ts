import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z, type ZodType } from 'zod';

export interface OpenApiInfo {
  title: string;
  description: string;
  version?: string;
  /** Name of the bearer scheme the routes declare with `@ApiBearerAuth(name)`. */
  bearerSchemes?: string[];
}

/** The request schema, for `@ApiBody({ schema })`: the zod schema that validates is the one documented. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function openApiSchema(schema: ZodType): Record<string, any> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

/** Serves the OpenAPI document at /docs (UI) and /docs-json. */
export function setupOpenApi(app: INestApplication, info: OpenApiInfo): void {
  let builder = new DocumentBuilder().setTitle(info.title).setDescription(info.description).setVersion(info.version ?? '1.0.0');
  for (const scheme of info.bearerSchemes ?? []) builder = builder.addBearerAuth({ type: 'http', scheme: 'bearer' }, scheme);
  const document = SwaggerModule.createDocument(app, builder.build());
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', raw: ['json'] });
}
