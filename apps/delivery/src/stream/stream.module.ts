import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { StreamAuthGuard } from './stream-auth.guard';
import { StreamConsumer } from './stream.consumer';
import { StreamController } from './stream.http.controller';
import { StreamHub } from './stream-hub';
import { STREAM_CONFIG, streamConfigSchema } from './stream.config';

/**
 * `GET /stream`: the partner's status events live, for `gancho listen`.
 * Self-contained so the delivery module registers it with one line; it
 * borrows the app's transport and partner-auth guard at run time.
 */
@Module({
  controllers: [StreamController],
  providers: [
    {
      provide: STREAM_CONFIG,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => streamConfigSchema.parse(Object.fromEntries(Object.keys(streamConfigSchema.shape).map((key) => [key, config.get<string>(key)]))),
    },
    StreamHub,
    StreamConsumer,
    StreamAuthGuard,
  ],
  exports: [StreamHub],
})
export class StreamModule {}
