import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Topics, type EndpointHealthReportV1 } from '@gancho/contracts';
import type { EventTransportContext } from '@gancho/messaging';
import { ServiceMetrics, topicRecordValidator } from '@gancho/service-kit';
import { EndpointService } from './endpoint-service';

/**
 * Delivery's reports that an endpoint should be disabled (410 Gone, or no
 * success for the configured period): applied as EndpointDisabled, which the
 * outbox then republishes on the endpoints topic. Partners re-enable with
 * PATCH `enabled: true`. Redelivery is harmless: a second report changes
 * nothing, and one older than the last re-enable is ignored.
 */
@Controller()
export class EndpointHealthController {
  private readonly logger = new Logger('EndpointHealth');

  constructor(
    private readonly endpoints: EndpointService,
    private readonly metrics: ServiceMetrics,
  ) {}

  @EventPattern(Topics.endpointHealth)
  async onHealthReport(@Payload() payload: unknown, @Ctx() context: EventTransportContext): Promise<void> {
    // Must-understand: a report this release cannot fully read (invalid, or with a reason or field of a newer
    // release) disables nothing. Retrying cannot make it readable, and holding it would stall its partition.
    const problems = topicRecordValidator().valueProblems(Topics.endpointHealth, payload);
    if (problems.length > 0) {
      this.metrics.recordNotUnderstood(Topics.endpointHealth);
      this.logger.error(`skipped an endpoint-health report at ${context.partition}/${context.offset}: ${problems.slice(0, 5).join('; ')}`);
      return;
    }
    const report = payload as EndpointHealthReportV1;
    const outcome = await this.endpoints.applyHealthReport(report, {
      actor: { type: 'delivery' },
      context: {
        ...(context.headers['ce_id'] ? { correlationId: context.headers['ce_id'] } : {}),
        ...(context.headers['traceparent'] ? { traceparent: context.headers['traceparent'] } : {}),
      },
    });
    if (outcome === 'disabled') this.logger.log(`endpoint ${report.endpoint_id} disabled: ${report.reason}`);
    if (outcome === 'unknown') this.logger.warn(`endpoint-health report for an endpoint this service does not know: ${report.endpoint_id}`);
  }
}
