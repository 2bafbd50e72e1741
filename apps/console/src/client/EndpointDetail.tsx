import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, type Endpoint, type EndpointSecrets, type RecoverAnswer, type Stats, type TestAnswer, type Timeseries } from './api';
import { groupByPhase, isAllEvents, useCatalog } from './catalog';
import { LatencyChart, SuccessRateChart } from './Charts';
import { Link, navigate, useI18n, useLoad, useLocation } from './core';
import { AuthFacts } from './EndpointAuth';
import { destinationType } from './Endpoints';
import { formatDateTimeInput, formatMs, formatPercent, formatTime, parseDateTimeInput } from './format';
import type { MessageKey } from './i18n';
import { isOperationalEntry } from './OperationalEvents';
import { ConfirmAction, CopyButton, DateTimeField, EnabledBadge, ErrorMessage, JsonBlock, Loading, Notice, TableWrap } from './ui';

export function EndpointDetailPage({ endpointId }: { endpointId: string }) {
  const { t, language } = useI18n();
  const { search } = useLocation();
  const endpoint = useLoad(() => api<Endpoint>('subscriptions', `/endpoints/${endpointId}`), [endpointId]);
  const [notice, setNotice] = useState<string | null>(search.get('saved') ? t('form.saved') : null);
  const [actionError, setActionError] = useState<unknown>(undefined);

  if (endpoint.loading && !endpoint.data) return <Loading />;
  if (!endpoint.data) {
    return (
      <>
        <p>
          <Link to="/endpoints">← {t('app.back')}</Link>
        </p>
        <ErrorMessage error={endpoint.error} />
      </>
    );
  }
  const ep = endpoint.data;
  const operationalEntries = ep.event_types.filter(isOperationalEntry);
  const purchaseEntries = ep.event_types.filter((entry) => !isOperationalEntry(entry));

  const act = async (work: () => Promise<unknown>, done?: string) => {
    setActionError(undefined);
    setNotice(null);
    try {
      await work();
      if (done) setNotice(done);
      endpoint.reload();
    } catch (error) {
      setActionError(error);
    }
  };

  return (
    <>
      <p>
        <Link to="/endpoints">← {t('app.back')}</Link>
      </p>
      <div className="page-header">
        <div>
          <h1 className="break">{ep.url}</h1>
          <p className="muted">
            {ep.description ? `${ep.description} · ` : ''}
            <code>{ep.id}</code> · {t(`endpoint.type.${destinationType(ep)}` as MessageKey)}
          </p>
        </div>
        <div className="actions">
          <Link to={`/endpoints/${ep.id}/edit`} className="button">
            {t('endpoint.edit')}
          </Link>
          {ep.enabled ? (
            <ConfirmAction
              label={t('endpoint.disable')}
              question={t('endpoint.disable.confirm')}
              onConfirm={() => void act(() => api('subscriptions', `/endpoints/${ep.id}`, { method: 'PATCH', body: { enabled: false } }))}
            />
          ) : (
            <button type="button" onClick={() => void act(() => api('subscriptions', `/endpoints/${ep.id}`, { method: 'PATCH', body: { enabled: true } }))}>
              {t('endpoint.enable')}
            </button>
          )}
          <ConfirmAction
            danger
            label={t('endpoint.delete')}
            question={t('endpoint.delete.confirm')}
            onConfirm={() =>
              void act(async () => {
                await api('subscriptions', `/endpoints/${ep.id}`, { method: 'DELETE' });
                navigate('/endpoints');
              })
            }
          />
        </div>
      </div>
      <Notice>{notice}</Notice>
      <ErrorMessage error={actionError} />
      {!ep.enabled ? (
        <div className="notice notice-warn" role="status">
          {t('endpoint.disabledBecause', { reason: t(`reason.${ep.disabled_reason ?? 'by_partner'}` as MessageKey) })}
          {ep.disabled_detail ? ` ${ep.disabled_detail}` : ''} {ep.disabled_at ? t('endpoint.disabledSince', { time: formatTime(ep.disabled_at, language) }) : ''}
        </div>
      ) : null}

      <div className="grid">
        <section className="card" aria-labelledby="details-title">
          <h2 id="details-title">{t('endpoint.details')}</h2>
          <dl className="facts">
            <dt>{t('endpoints.col.status')}</dt>
            <dd>
              <EnabledBadge enabled={ep.enabled} />
            </dd>
            <dt>{t('endpoints.col.events')}</dt>
            <dd>{isAllEvents(ep.event_types) ? t('endpoints.allEvents') : purchaseEntries.length > 0 ? <EventTypeChips filter={purchaseEntries} /> : '—'}</dd>
            <dt>{t('ops.title')}</dt>
            <dd>
              {operationalEntries.length === 0
                ? '—'
                : operationalEntries.map((entry) => (
                    <code key={entry} className="chip">
                      {entry}
                    </code>
                  ))}
            </dd>
            <dt>{t('form.ordering')}</dt>
            <dd>{t(`form.ordering.${ep.ordering}`)}</dd>
            <dt>{t('form.filter')}</dt>
            <dd>{ep.payload_filter ? <JsonBlock value={ep.payload_filter} label={t('form.filter.json')} /> : t('endpoint.filter.none')}</dd>
            <dt>{t('form.includePersonalData')}</dt>
            <dd>{t(ep.include_personal_data ? 'app.yes' : 'app.no')}</dd>
            <dt>{t('endpoint.headers')}</dt>
            <dd>
              {Object.keys(ep.headers).length === 0
                ? '—'
                : Object.entries(ep.headers).map(([name, header]) => (
                    // The value is never shown: its last four characters at most.
                    <code key={name} className="chip">
                      {header.value_last4 === null ? name : `${name}: …${header.value_last4}`}
                    </code>
                  ))}
            </dd>
            {destinationType(ep) === 'webhook' ? (
              <>
                <dt>{t('auth.title')}</dt>
                <AuthFacts auth={ep.auth} />
              </>
            ) : null}
            {ep.destination?.type === 'activecampaign' ? (
              <>
                <dt>{t('form.ac.apiUrl')}</dt>
                <dd className="break">{ep.destination.api_url}</dd>
                <dt>{t('form.ac.apiToken')}</dt>
                <dd>
                  <code>••••••••{ep.destination.api_token_last4}</code>
                </dd>
              </>
            ) : null}
            <dt>{t('endpoint.created')}</dt>
            <dd>{formatTime(ep.created_at, language)}</dd>
            <dt>{t('endpoint.updated')}</dt>
            <dd>{formatTime(ep.updated_at, language)}</dd>
          </dl>
          <p>
            <Link to={`/messages?endpoint_id=${encodeURIComponent(ep.id)}`}>{t('endpoint.viewMessages')}</Link>
          </p>
        </section>
        {destinationType(ep) === 'webhook' ? <SecretSection endpointId={ep.id} /> : null}
        <TestSection endpointId={ep.id} />
        <RecoverSection endpointId={ep.id} />
      </div>
      <HealthSection endpointId={ep.id} />
      <AuditSection endpointId={ep.id} version={ep.updated_at} />
    </>
  );
}

interface AuditEntry {
  event_id: string;
  type: string;
  occurred_at: string;
  actor: { type: string; api_key_id?: string } | null;
  changes: Record<string, unknown>;
}

/** Who changed what, when (the endpoint's event stream; never a secret). */
function AuditSection({ endpointId, version }: { endpointId: string; version: string }) {
  const { t, language } = useI18n();
  const audit = useLoad(() => api<{ items: AuditEntry[] }>('subscriptions', `/endpoints/${endpointId}/audit`), [endpointId, version]);
  const actorOf = (actor: AuditEntry['actor']) =>
    actor === null ? '—' : actor.type === 'partner' ? t('audit.actor.partner', { key: actor.api_key_id ?? '' }) : t(`audit.actor.${actor.type === 'admin' ? 'admin' : 'system'}` as MessageKey);
  return (
    <section className="card audit" aria-labelledby="audit-title">
      <h2 id="audit-title">{t('audit.title')}</h2>
      <ErrorMessage error={audit.error} />
      {audit.data ? (
        <TableWrap label={t('audit.title')}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('audit.when')}</th>
                <th scope="col">{t('audit.what')}</th>
                <th scope="col">{t('audit.who')}</th>
                <th scope="col">{t('audit.changes')}</th>
              </tr>
            </thead>
            <tbody>
              {[...audit.data.items].reverse().map((entry) => (
                <tr key={entry.event_id}>
                  <td>{formatTime(entry.occurred_at, language)}</td>
                  <td>
                    <code>{entry.type}</code>
                  </td>
                  <td className="small">{actorOf(entry.actor)}</td>
                  <td className="small">
                    {Object.keys(entry.changes).length === 0
                      ? '—'
                      : Object.entries(entry.changes).map(([name, value]) => (
                          <div key={name} className="break">
                            <code>{name}</code>: {Array.isArray(value) ? value.join(', ') || '—' : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : (
        <Loading />
      )}
    </section>
  );
}

/** The endpoint's types, a whole phase shown as one chip. */
function EventTypeChips({ filter }: { filter: string[] }) {
  const { t } = useI18n();
  const { types } = useCatalog();
  const chosen = new Set(filter);
  const chips: { key: string; label: string; code: boolean }[] = [];
  const covered = new Set<string>();
  for (const [phase, list] of types ? groupByPhase(types) : []) {
    if (list.length > 1 && list.every((type) => chosen.has(type.type))) {
      chips.push({ key: phase, label: t('endpoint.wholePhase', { phase: t(`phase.${phase}` as MessageKey), count: list.length }), code: false });
      for (const type of list) covered.add(type.type);
    }
  }
  for (const type of filter) if (!covered.has(type)) chips.push({ key: type, label: type, code: true });
  return (
    <>
      {chips.map((chip) =>
        chip.code ? (
          <code key={chip.key} className="chip">
            {chip.label}
          </code>
        ) : (
          <span key={chip.key} className="chip">
            {chip.label}
          </span>
        ),
      )}
    </>
  );
}

function SecretSection({ endpointId }: { endpointId: string }) {
  const { t, language } = useI18n();
  const [secrets, setSecrets] = useState<{ current: { secret: string }; previous: { secret: string; valid_until: string } | null } | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const reveal = async () => {
    setError(undefined);
    try {
      setSecrets(await api('subscriptions', `/endpoints/${endpointId}/secret`));
    } catch (caught) {
      setError(caught);
    }
  };
  const rotate = async () => {
    setError(undefined);
    setNotice(null);
    try {
      await api('subscriptions', `/endpoints/${endpointId}/secret/rotate`, { method: 'POST' });
      const fresh = await api<EndpointSecrets>('subscriptions', `/endpoints/${endpointId}/secret`);
      setNotice(t('secret.rotated', { time: formatTime(fresh.previous?.valid_until, language) }));
      // Shown again only if it was shown.
      setSecrets((shown) => (shown ? fresh : null));
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section className="card" aria-labelledby="secret-title">
      <h2 id="secret-title">{t('secret.title')}</h2>
      <p className="muted small">{t('secret.intro')}</p>
      <ErrorMessage error={error} />
      <Notice>{notice}</Notice>
      {secrets ? (
        <div className="secret">
          <p className="small">{t('secret.current')}</p>
          <p>
            <code className="secret-value" data-testid="secret-current">
              {secrets.current.secret}
            </code>{' '}
            <CopyButton value={secrets.current.secret} />
          </p>
          {secrets.previous ? (
            <>
              <p className="small">{t('secret.previous', { time: formatTime(secrets.previous.valid_until, language) })}</p>
              <p>
                <code className="secret-value">{secrets.previous.secret}</code>
              </p>
            </>
          ) : null}
        </div>
      ) : null}
      <div className="actions">
        {secrets ? (
          <button type="button" onClick={() => setSecrets(null)}>
            {t('secret.hide')}
          </button>
        ) : (
          <button type="button" onClick={() => void reveal()}>
            {t('secret.reveal')}
          </button>
        )}
        <ConfirmAction label={t('secret.rotate')} question={t('secret.rotate.confirm')} onConfirm={() => void rotate()} />
      </div>
    </section>
  );
}

function TestSection({ endpointId }: { endpointId: string }) {
  const { t } = useI18n();
  const { types } = useCatalog();
  const [type, setType] = useState('purchase.made_effective');
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const send = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSent(null);
    try {
      const result = await api<TestAnswer>('delivery', `/endpoints/${endpointId}/test`, { method: 'POST', body: { event_type: type } });
      setSent(result.message_id);
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section className="card" aria-labelledby="test-title">
      <h2 id="test-title">{t('test.title')}</h2>
      <form onSubmit={send}>
        <div className="field">
          <label htmlFor="test-type">{t('test.type')}</label>
          <select id="test-type" value={type} onChange={(e) => setType(e.target.value)}>
            {(types ?? [{ type: 'purchase.made_effective' }]).map((info) => (
              <option key={info.type} value={info.type}>
                {info.type}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">{t('test.send')}</button>
      </form>
      <ErrorMessage error={error} />
      {sent ? (
        <Notice>
          {t('test.sent')} <Link to={`/messages/${sent}`}>{t('test.open')}</Link>
        </Notice>
      ) : null}
    </section>
  );
}

function RecoverSection({ endpointId }: { endpointId: string }) {
  const { t, language } = useI18n();
  const [since, setSince] = useState(() => formatDateTimeInput(new Date(Date.now() - 24 * 3600_000).toISOString(), language));
  const [until, setUntil] = useState('');
  const [invalid, setInvalid] = useState<{ since: boolean; until: boolean }>({ since: false, until: false });
  const [done, setDone] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  // Typed dates follow the language: a switch rewrites them in the new one's format.
  const shownIn = useRef(language);
  useEffect(() => {
    const from = shownIn.current;
    shownIn.current = language;
    if (from === language) return;
    const rewrite = (text: string) => {
      const instant = parseDateTimeInput(text, from);
      return instant ? formatDateTimeInput(instant, language) : text;
    };
    setSince(rewrite);
    setUntil(rewrite);
  }, [language]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setDone(null);
    const sinceIso = parseDateTimeInput(since, language);
    const untilIso = parseDateTimeInput(until, language);
    setInvalid({ since: !sinceIso, until: untilIso === null });
    if (!sinceIso || untilIso === null) {
      document.getElementById(!sinceIso ? 'recover-since' : 'recover-until')?.focus();
      return;
    }
    try {
      const result = await api<RecoverAnswer>('delivery', `/endpoints/${endpointId}/recover`, { method: 'POST', body: { since: sinceIso, ...(untilIso ? { until: untilIso } : {}) } });
      setDone(result.resent);
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section className="card" aria-labelledby="recover-title">
      <h2 id="recover-title">{t('recover.title')}</h2>
      <p className="muted small">{t('recover.intro')}</p>
      <form onSubmit={submit}>
        <DateTimeField id="recover-since" label={t('recover.since')} required value={since} onChange={setSince} invalid={invalid.since} />
        <DateTimeField id="recover-until" label={t('recover.until')} value={until} onChange={setUntil} invalid={invalid.until} />
        <button type="submit">{t('recover.submit')}</button>
      </form>
      <ErrorMessage error={error} />
      {done !== null ? <Notice>{t('recover.done', { count: done })}</Notice> : null}
    </section>
  );
}

const windows = { '1h': 3600_000, '24h': 24 * 3600_000, '7d': 7 * 24 * 3600_000 } as const;

function HealthSection({ endpointId }: { endpointId: string }) {
  const { t, language } = useI18n();
  const [window, setWindow] = useState<keyof typeof windows>('24h');
  const data = useLoad(async () => {
    const until = new Date();
    const since = new Date(until.getTime() - windows[window]).toISOString();
    const range = `since=${encodeURIComponent(since)}&until=${encodeURIComponent(until.toISOString())}`;
    const [stats, series] = await Promise.all([api<Stats>('delivery', `/endpoints/${endpointId}/stats?${range}`), api<Timeseries>('delivery', `/endpoints/${endpointId}/stats/timeseries?${range}`)]);
    return { stats, series, until: until.toISOString() };
  }, [endpointId, window]);
  const stats = data.data?.stats;
  return (
    <section className="card" aria-labelledby="health-title">
      <div className="page-header">
        <h2 id="health-title">{t('health.title')}</h2>
        <div className="actions">
          <label className="inline-label">
            <span>{t('health.window')}</span>
            <select value={window} onChange={(e) => setWindow(e.target.value as keyof typeof windows)}>
              {(Object.keys(windows) as (keyof typeof windows)[]).map((w) => (
                <option key={w} value={w}>
                  {t(`health.window.${w}` as MessageKey)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={data.reload}>
            {t('app.refresh')}
          </button>
        </div>
      </div>
      <ErrorMessage error={data.error} />
      {!data.data && data.loading ? <Loading /> : null}
      {stats ? (
        <>
          <dl className="kpis">
            <div>
              <dt>{t('health.attempts')}</dt>
              <dd>{stats.attempts}</dd>
            </div>
            <div>
              <dt>{t('health.successRate')}</dt>
              <dd>{formatPercent(stats.success_rate, language)}</dd>
            </div>
            <div>
              <dt>
                {t('health.latency')} ({t('health.p50')})
              </dt>
              <dd>{formatMs(stats.latency_ms.p50, language)}</dd>
            </div>
            <div>
              <dt>{t('health.lastSuccess')}</dt>
              <dd>{stats.last_success_at ? formatTime(stats.last_success_at, language) : t('health.never')}</dd>
            </div>
            <div>
              <dt>{t('health.consecutiveFailures')}</dt>
              <dd>{stats.consecutive_failures}</dd>
            </div>
            {stats.failing_since ? (
              <div>
                <dt>{t('health.failingSince')}</dt>
                <dd>{formatTime(stats.failing_since, language)}</dd>
              </div>
            ) : null}
          </dl>
          {stats.attempts === 0 ? <p className="muted">{t('health.none')}</p> : null}
        </>
      ) : null}
      {data.data ? (
        <div className="charts">
          <SuccessRateChart points={data.data.series.points} bucket={data.data.series.bucket} until={data.data.until} />
          <LatencyChart points={data.data.series.points} bucket={data.data.series.bucket} until={data.data.until} />
        </div>
      ) : null}
    </section>
  );
}
