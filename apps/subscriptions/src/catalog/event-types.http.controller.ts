import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  examplePersonalDataErasedPayload,
  exampleWebhookPayload,
  isEventType,
  isWebhookEventType,
  personalDataErasedWebhookSchema,
  statusCatalog,
  statusOfEventType,
  webhookEventTypes,
  webhookPayloadSchema,
  type JsonSchema,
  type PersonalDataErasedPayload,
  type Phase,
  type PurchaseWebhookPayload,
  type WebhookEventType,
} from '@gancho/contracts';
import { ApiProblems, openApiSchema, ProblemError } from '@gancho/service-kit';
import { eventTypeListResponse, eventTypeResponse } from '../partner-api-responses';

export interface EventTypeView {
  type: WebhookEventType;
  description: string;
  /** null for a type that is not a status. */
  phase: Phase | null;
  schema: JsonSchema;
}

const personalDataErasedDescription = "A student's personal data was erased (LGPD): erase your copy of it. Sent once per purchase of the student; not a status.";

function viewOf(type: WebhookEventType): EventTypeView {
  if (!isEventType(type)) return { type, description: personalDataErasedDescription, phase: null, schema: personalDataErasedWebhookSchema() };
  const info = statusCatalog[statusOfEventType(type)];
  return { type, description: info.description, phase: info.phase, schema: webhookPayloadSchema(type) };
}

function checkType(type: string): WebhookEventType {
  if (!isWebhookEventType(type)) throw new ProblemError('EVENT_TYPE_NOT_FOUND', `There is no event type ${type}; GET /event-types lists them.`);
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
    return { items: webhookEventTypes.map(viewOf) };
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
  example(@Param('type') type: string): PurchaseWebhookPayload | PersonalDataErasedPayload {
    const known = checkType(type);
    return isEventType(known) ? exampleWebhookPayload(known) : examplePersonalDataErasedPayload();
  }
}
