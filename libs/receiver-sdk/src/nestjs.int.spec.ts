import { Controller, HttpCode, Module, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ReceivedWebhook, WebhookSignatureGuard } from './nestjs';
import { signWebhook } from './signature';
import type { VerifiedWebhook } from './webhook';
import { madeEffectiveBody, postWebhook, secret } from './testing/webhook-requests';

// Scenarios, over real HTTP with NestJS 11 on Express, created with { rawBody: true }:
// - the guard admits a signed webhook and the handler gets it typed with @ReceivedWebhook();
// - a bad signature is 401 (Nest's exception body carries our code) and the handler is not called;
// - an app created without rawBody fails loudly (500), not silently.

const handled: string[] = [];

@Controller()
class WebhooksController {
  @Post('webhooks')
  @HttpCode(200)
  @UseGuards(new WebhookSignatureGuard({ secret }))
  receive(@ReceivedWebhook() { id, event }: VerifiedWebhook): { type: string; email: string | undefined } {
    handled.push(id);
    return { type: event.type, email: event.data.student.email };
  }
}

@Module({ controllers: [WebhooksController] })
class ReceiverModule {}

async function start(rawBody: boolean): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(ReceiverModule, { rawBody, logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe('WebhookSignatureGuard (NestJS)', () => {
  let withRaw: { app: INestApplication; url: string };
  let withoutRaw: { app: INestApplication; url: string };

  beforeAll(async () => {
    withRaw = await start(true);
    withoutRaw = await start(false);
  });
  afterAll(async () => {
    await withRaw?.app.close();
    await withoutRaw?.app.close();
  });
  beforeEach(() => (handled.length = 0));

  it('admits a signed webhook and hands the typed event to the handler', async () => {
    expect(await postWebhook(`${withRaw.url}/webhooks`, { id: 'msg_nest_1' })).toMatchObject({ status: 200, body: { type: 'purchase.made_effective', email: 'ana@example.com' } });
    expect(handled).toEqual(['msg_nest_1']);
  });

  it('answers 401 with our code for a tampered body, and never calls the handler', async () => {
    const headers = signWebhook({ id: 'msg_1', timestamp: new Date(), body: madeEffectiveBody(), secret });
    const answer = await postWebhook(`${withRaw.url}/webhooks`, { body: madeEffectiveBody('pur_other'), headers });
    expect(answer).toMatchObject({ status: 401, body: { code: 'WEBHOOK_SIGNATURE_MISMATCH' } });
    expect(handled).toEqual([]);
  });

  it('fails loudly when the app was created without rawBody', async () => {
    expect((await postWebhook(`${withoutRaw.url}/webhooks`)).status).toBe(500);
    expect(handled).toEqual([]);
  });
});
