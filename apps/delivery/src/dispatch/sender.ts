/** What the dispatcher needs of an HTTP client (the undici adapter in `@gancho/webhook-sender`). */
export interface SendRequest {
  url: string;
  /** The endpoint sent to: each endpoint has connections of its own (without it, requests to one origin share them). */
  endpointId?: string;
  headers: Record<string, string>;
  body: string;
}

export type SendResult =
  | { kind: 'response'; status: number; headers: Record<string, string>; bodySnippet: string; elapsedMs: number }
  | { kind: 'error'; errorClass: string; message: string; elapsedMs: number };

export interface WebhookSenderPort {
  send(request: SendRequest): Promise<SendResult>;
  close(): Promise<void>;
}

export const WEBHOOK_SENDER = Symbol('WEBHOOK_SENDER');
