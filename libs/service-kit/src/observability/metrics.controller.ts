import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { renderMetrics } from '@gancho/telemetry';
import { ServiceMetrics } from './service-metrics';

/** Prometheus scrapes this (text exposition format). */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ServiceMetrics) {}

  @Get()
  async scrape(@Res() response: Response): Promise<void> {
    const { contentType, body } = await renderMetrics(this.metrics.registry);
    response.status(200).type(contentType).send(body);
  }
}
