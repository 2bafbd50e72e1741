import { Catch, Controller, Get, HttpException, UseFilters, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator, type HealthCheckResult } from '@nestjs/terminus';
import { TransportHealthIndicator } from './transport.health';

/** Probes answer with Terminus' own report (which check is down), not a problem document. */
@Catch(HttpException)
class HealthReportFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<Response>().status(exception.getStatus()).json(exception.getResponse());
  }
}

/**
 * Kubernetes probes. Liveness says only that the process serves HTTP (a
 * database outage must not get every pod restarted); readiness says the
 * service can do its work now: its database and its event transport answer.
 */
@Controller('health')
@UseFilters(HealthReportFilter)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly transport: TransportHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.database.pingCheck('database', { timeout: 2000 }), () => this.transport.isHealthy('transport')]);
  }
}
