import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { eventTypes, exampleWebhookPayload, isEventType, statusCatalog, statusOfEventType, webhookPayloadSchema, type EventType, type JsonSchema, type Phase, type PurchaseWebhookPayload } from '@gancho/contracts';
import { ApiProblems, openApiSchema, ProblemError } from '@gancho/service-kit';
import { eventTypeListResponse, eventTypeResponse } from '../partner-api-responses';

export interface EventTypeView {
  type: EventType;
  description: string;
  phase: Phase;
  schema: JsonSchema;
}

function viewOf(type: EventType): EventTypeView {
  const info = statusCatalog[statusOfEventType(type)];
  return { type, description: info.description, phase: info.phase, schema: webhookPayloadSchema(type) };
}

function checkType(type: string): EventType {
  if (!isEventType(type)) throw new ProblemError('EVENT_TYPE_NOT_FOUND', `There is no event type ${type}; GET /event-types lists them.`);
  return type;
}

/** The catalog of event types an endpoint can subscribe to. Public: it holds nothing of any partner. */
@ApiTags('event types')
@Controller('event-types')
export class EventTypesController {
  @Get()
  @ApiOkResponse({ schema: openApiSchema(eventTypeListResponse) })
  @ApiOperation({ summary: 'Every event type, with its description, phase and JSON Schema', operationId: 'listEventTypes' })
  list(): { items: EventTypeView[] } {
    return { items: eventTypes.map(viewOf) };
  }

  @Get(':type')
  @ApiOkResponse({ schema: openApiSchema(eventTypeResponse) })
  @ApiProblems('EVENT_TYPE_NOT_FOUND')
  @ApiOperation({ summary: 'One event type', operationId: 'getEventType' })
  get(@Param('type') type: string): EventTypeView {
    return viewOf(checkType(type));
  }

  @Get(':type/example')
  @ApiProblems('EVENT_TYPE_NOT_FOUND')
  @ApiOperation({ summary: 'An example webhook body of the type, valid against its schema', operationId: 'getEventTypeExample' })
  example(@Param('type') type: string): PurchaseWebhookPayload {
    return exampleWebhookPayload(checkType(type));
  }
}
