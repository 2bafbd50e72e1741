import { apiKeyRecordProblems } from './api-key-record';
import { endpointHealthReportProblems } from './endpoint-health';
import { Topics } from './topics';

describe('subscriptions contracts', () => {
  it('name the api-keys and endpoint-health topics', () => {
    expect(Topics.apiKeys).toBe('subscriptions.api-keys.v1');
    expect(Topics.endpointHealth).toBe('delivery.endpoint-health.v1');
  });

  it('check an API key record', () => {
    const record = {
      key_id: 'key_1',
      partner_id: 'ptn_1',
      key_hash: 'a'.repeat(64),
      display_prefix: 'gk_live_abcdef',
      revoked: false,
      created_at: '2026-11-27T19:28:47.123Z',
      revoked_at: null,
    };
    expect(apiKeyRecordProblems(record)).toEqual([]);
    expect(apiKeyRecordProblems({ ...record, key_hash: 'nope', revoked: 'yes' })).toEqual(['key_hash: must be 64 lower-case hex digits', 'revoked: must be a boolean']);
    expect(apiKeyRecordProblems(null)).toEqual(['must be an object']);
  });

  it('check an endpoint health report', () => {
    const report = { endpoint_id: 'ep_1', partner_id: 'ptn_1', reason: 'gone', detail: '410 Gone', occurred_at: '2026-11-27T19:28:47.123Z' };
    expect(endpointHealthReportProblems(report)).toEqual([]);
    expect(endpointHealthReportProblems({ ...report, reason: 'sad', occurred_at: 'yesterday' })).toEqual(['occurred_at: must be a date-time', 'reason: must be one of gone, failing, unauthorized']);
    expect(endpointHealthReportProblems({ ...report, reason: 'unauthorized', detail: 'ActiveCampaign refused the API token (403)' })).toEqual([]);
  });
});
