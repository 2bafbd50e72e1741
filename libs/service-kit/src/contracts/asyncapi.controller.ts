import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { asyncApiDocument } from '@gancho/contracts';
import { SERVICE_NAME } from '../service-name';

/**
 * The AsyncAPI 3.0 document of the topics this service produces or consumes,
 * from the topic registry (the whole platform's is docs/asyncapi.yaml). Not
 * in the OpenAPI document: it describes Kafka, not HTTP.
 */
@ApiExcludeController()
@Controller()
export class AsyncApiController {
  private readonly document: string;

  constructor(@Inject(SERVICE_NAME) service: string) {
    this.document = JSON.stringify(asyncApiDocument({ service }));
  }

  @Get('asyncapi.json')
  serve(@Res() response: Response): void {
    response.status(200).type('application/json').send(this.document);
  }
}
