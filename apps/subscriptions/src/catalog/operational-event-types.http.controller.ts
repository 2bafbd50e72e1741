import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  exampleOperationalPayload,
  isOperationalEventType,
  operationalEventDescriptions,
  operationalEventTypes,
  operationalWebhookSchema,
  type JsonSchema,
  type OperationalEventType,
  type OperationalWebhookPayload,
} from '@gancho/contracts';
import { ApiProblems, openApiSchema, ProblemError } from '@gancho/service-kit';
import { z } from 'zod';

export interface OperationalEventTypeView {
  type: OperationalEventType;
  description: string;
  schema: JsonSchema;
}

const operationalEventTypeResponse = z.looseObject({
  type: z.enum(operationalEventTypes),
  description: z.string().describe('In English; the console shows its own translation of each type.'),
  schema: z.record(z.string(), z.unknown()).describe('The JSON Schema (2020-12) of the webhook body.'),
});
const operationalEventTypeListResponse = z.looseObject({ items: z.array(operationalEventTypeResponse) });

function viewOf(type: OperationalEventType): OperationalEventTypeView {
  return { type, description: operationalEventDescriptions[type], schema: operationalWebhookSchema(type) };
}

function checkType(type: string): OperationalEventType {
  if (!isOperationalEventType(type)) throw new ProblemError('EVENT_TYPE_NOT_FOUND', `There is no operational event type ${type}; GET /operational-event-types lists them.`);
  return type;
}

/**
 * The catalog of operational event types: what Gancho tells a partner about
 * its own endpoints and messages. An endpoint receives them when its
 * `event_types` names them (or `endpoint.*`, `message.*`); never about itself.
 * Public: it holds nothing of any partner.
 */
@ApiTags('event types')
@Controller('operational-event-types')
export class OperationalEventTypesController {
  @Get()
  @ApiOkResponse({ schema: openApiSchema(operationalEventTypeListResponse) })
  @ApiOperation({ summary: 'Every operational event type, with its description and JSON Schema', operationId: 'listOperationalEventTypes' })
  list(): { items: OperationalEventTypeView[] } {
    return { items: operationalEventTypes.map(viewOf) };
  }

  @Get(':type')
  @ApiOkResponse({ schema: openApiSchema(operationalEventTypeResponse) })
  @ApiProblems('EVENT_TYPE_NOT_FOUND')
  @ApiOperation({ summary: 'One operational event type', operationId: 'getOperationalEventType' })
  get(@Param('type') type: string): OperationalEventTypeView {
    return viewOf(checkType(type));
  }

  @Get(':type/example')
  @ApiProblems('EVENT_TYPE_NOT_FOUND')
  @ApiOperation({ summary: 'An example webhook body of the operational type, valid against its schema', operationId: 'getOperationalEventTypeExample' })
  example(@Param('type') type: string): OperationalWebhookPayload {
    return exampleOperationalPayload(checkType(type));
  }
}
