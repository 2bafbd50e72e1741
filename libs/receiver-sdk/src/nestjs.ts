import { createParamDecorator, UnauthorizedException, BadRequestException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { isWebhookVerificationError } from './errors.js';
import { attachWebhook, RawBodyUnavailableError, refusal, webhookOf } from './middleware-core.js';
import { verifyWebhook, type VerifiedWebhook, type WebhookOptions } from './webhook.js';

export { webhookOf, RawBodyUnavailableError } from './middleware-core.js';

/**
 * A NestJS guard: verifies the signature over the raw body (create the app
 * with `NestFactory.create(AppModule, { rawBody: true })`, on Express or
 * Fastify) and answers 401 when it does not match; the handler gets the
 * verified webhook with `@ReceivedWebhook()`.
 *
 *     @Post('webhooks')
 *     @UseGuards(new WebhookSignatureGuard({ secret: process.env.GANCHO_SECRET! }))
 *     receive(@ReceivedWebhook() { id, event }: VerifiedWebhook) { … }
 */
export class WebhookSignatureGuard implements CanActivate {
  constructor(private readonly options: WebhookOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ rawBody?: unknown; headers: Record<string, string | string[] | undefined> }>();
    if (!Buffer.isBuffer(request.rawBody)) {
      throw new RawBodyUnavailableError('create the Nest application with { rawBody: true }');
    }
    try {
      attachWebhook(request, verifyWebhook(request.rawBody, request.headers, this.options));
    } catch (error) {
      if (!isWebhookVerificationError(error)) throw error;
      const answer = refusal(error);
      throw answer.status === 401 ? new UnauthorizedException(answer.body) : new BadRequestException(answer.body);
    }
    return true;
  }
}

/** The webhook verified by `WebhookSignatureGuard` for this request. */
export const ReceivedWebhook = createParamDecorator((_data: unknown, context: ExecutionContext): VerifiedWebhook => webhookOf(context.switchToHttp().getRequest<object>()));
