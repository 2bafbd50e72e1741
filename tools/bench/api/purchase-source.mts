// Load for the API-path scenarios: new purchases through journey's public
// `POST /purchases`, the way a partner's checkout opens them (no purchase id
// given, journey makes one), round-robin over the partners. Each purchase is
// one status event (`purchase.not_logged`), so one delivery per endpoint of
// its partner. The bench keeps, per purchase, when the command was sent and
// when journey answered it, to time the webhooks against.
import { Pool } from 'undici';
import { Histogram } from '../histogram.mts';
import type { LoadSource } from '../load.mts';

export interface CommandTimes {
  /** ms since the epoch, just before the request was written */
  sentAt: number;
  /** ms since the epoch, once journey's 201 had been read */
  acceptedAt: number;
}

export class PurchaseSource implements LoadSource {
  started = 0;
  expected = 0;
  pending = 0;
  errors = 0;
  lastError = '';
  readonly perUnit: number;
  readonly commandLatency = new Histogram();
  /** Every purchase journey accepted, by id. */
  readonly accepted = new Map<string, CommandTimes>();
  private readonly pool: Pool;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly token: string;
  private readonly partners: { partnerId: string; healthyEndpoints: number }[];
  /** Commands in flight at most (a checkout fleet's connections). */
  private readonly concurrency: number;

  constructor(journeyUrl: string, token: string, partners: { partnerId: string; healthyEndpoints: number }[], concurrency: number) {
    this.token = token;
    this.partners = partners;
    this.concurrency = concurrency;
    this.pool = new Pool(journeyUrl, { connections: Math.min(concurrency, 64), keepAliveTimeout: 60_000 });
    this.perUnit = partners.reduce((sum, p) => sum + p.healthyEndpoints, 0) / partners.length;
  }

  start(units: number): Promise<number> {
    let issued = 0;
    while (issued < units && this.inFlight.size < this.concurrency) {
      const partner = this.partners[(this.started + issued) % this.partners.length] as (typeof this.partners)[number];
      const command = this.open(partner).finally(() => this.inFlight.delete(command));
      this.inFlight.add(command);
      issued++;
    }
    this.started += issued;
    return Promise.resolve(issued);
  }

  private async open(partner: { partnerId: string; healthyEndpoints: number }): Promise<void> {
    this.pending += partner.healthyEndpoints;
    const body = JSON.stringify({
      partner_id: partner.partnerId,
      course: { id: 'crs_bench', name: 'Engenharia de Dados', price_cents: 990000, currency: 'BRL' },
      student: { name: 'Bia Lima', email: 'bia@example.com' },
      student_logged_in: false,
    });
    const sentAt = Date.now();
    const sent = performance.now();
    try {
      const response = await this.pool.request({ path: '/purchases', method: 'POST', headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' }, body });
      const text = await response.body.text();
      const acceptedAt = Date.now();
      this.commandLatency.record(performance.now() - sent);
      if (response.statusCode === 201) {
        this.accepted.set((JSON.parse(text) as { purchase_id: string }).purchase_id, { sentAt, acceptedAt });
        this.expected += partner.healthyEndpoints;
      } else {
        this.errors++;
        this.lastError = `${response.statusCode} POST /purchases: ${text.slice(0, 300)}`;
      }
    } catch (error) {
      this.errors++;
      this.lastError = String(error);
    } finally {
      this.pending -= partner.healthyEndpoints;
    }
  }

  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.settle();
    await this.pool.close();
  }
}
