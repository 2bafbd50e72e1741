/** A refusal from a Gancho API, with its problem+json code when it had one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export interface ApiTarget {
  apiKey: string;
  deliveryUrl: string;
  subscriptionsUrl: string;
}

export const userAgent = 'gancho-cli/0.1';

/** Calls the partner APIs with the API key. */
export class GanchoApi {
  constructor(readonly target: ApiTarget) {}

  delivery<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.call<T>(this.target.deliveryUrl, method, path, body, headers);
  }

  subscriptions<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.call<T>(this.target.subscriptionsUrl, method, path, body, headers);
  }

  /** Every item of a cursor-paginated list. */
  async all<T>(service: 'delivery' | 'subscriptions', path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page: { items: T[]; next_cursor: string | null } = await this[service]('GET', `${path}${separator}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }

  private async call<T>(base: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, base), {
        method,
        headers: {
          authorization: `Bearer ${this.target.apiKey}`,
          'user-agent': userAgent,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new ApiError(0, cause, `Cannot reach ${base}: ${cause ?? (error instanceof Error ? error.message : String(error))}`);
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      throw new ApiError(response.status, typeof parsed['code'] === 'string' ? parsed['code'] : undefined, String(parsed['detail'] ?? parsed['title'] ?? response.statusText));
    }
    return parsed as T;
  }
}
