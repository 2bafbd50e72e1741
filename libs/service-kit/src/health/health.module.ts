import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TransportModule } from '../transport/transport.module';
import { HealthController } from './health.controller';
import { TransportHealthIndicator } from './transport.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: true, errorLogStyle: 'json' }), TransportModule],
  controllers: [HealthController],
  providers: [TransportHealthIndicator],
})
export class HealthModule {}
