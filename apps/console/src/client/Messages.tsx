import { useCallback, useState, type FormEvent } from 'react';
import { api, query, type Endpoint, type MessageSummary, type Page } from './api';
import { useCatalog } from './catalog';
import { Link, navigate, useI18n, useInterval, useLoad, useLocation } from './core';
import { formatDateTimeInput, formatTime, parseDateTimeInput } from './format';
import type { MessageKey } from './i18n';
import { DateTimeField, EmptyState, ErrorMessage, Loading, MessageStatusBadge, TableWrap } from './ui';

const statuses: MessageSummary['status'][] = ['pending', 'sending', 'succeeded', 'failed', 'exhausted', 'skipped'];
const filterNames = ['endpoint_id', 'event_type', 'status', 'since', 'until'] as const;
type Filters = Record<(typeof filterNames)[number], string>;

function filtersOf(search: URLSearchParams): Filters {
  return Object.fromEntries(filterNames.map((name) => [name, search.get(name) ?? ''])) as Filters;
}

export function MessagesPage() {
  const { t, language } = useI18n();
  const { search } = useLocation();
  const filters = filtersOf(search);
  const filterKey = filterNames.map((n) => filters[n]).join('|');
  const [live, setLive] = useState(true);
  const [more, setMore] = useState<{ items: MessageSummary[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const [badDates, setBadDates] = useState<Set<string>>(new Set());
  const endpoints = useLoad(() => api<Page<Endpoint>>('subscriptions', '/endpoints?limit=100'), []);
  const { types } = useCatalog();
  const first = useLoad(() => {
    setMore(null);
    return api<Page<MessageSummary>>('delivery', `/messages${query({ ...filters, limit: 50 })}`);
    // filterKey stands for the filters
  }, [filterKey]);
  const reload = first.reload;
  useInterval(
    useCallback(() => reload(), [reload]),
    3000,
    live && more === null,
  );

  const items = [...(first.data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : (first.data?.next_cursor ?? null);
  const filtered = filterNames.some((n) => filters[n] !== '');
  const urlOf = (id: string) => endpoints.data?.items.find((e) => e.id === id)?.url ?? id;

  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await api<Page<MessageSummary>>('delivery', `/messages${query({ ...filters, limit: 50, cursor })}`);
      setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], cursor: page.next_cursor }));
    } catch (error) {
      setMoreError(error);
    }
  };

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const next: Record<string, string | undefined> = {};
    const invalid = new Set<string>();
    for (const name of filterNames) {
      const value = String(data.get(name) ?? '');
      if (name !== 'since' && name !== 'until') next[name] = value || undefined;
      else {
        const instant = parseDateTimeInput(value, language);
        if (instant === null) invalid.add(name);
        else next[name] = instant;
      }
    }
    setBadDates(invalid);
    if (invalid.size > 0) {
      document.getElementById(`filter-${[...invalid][0]}`)?.focus();
      return;
    }
    navigate(`/messages${query(next)}`);
  };

  return (
    <>
      <div className="page-header">
        <div>
          <h1>{t('messages.title')}</h1>
          <p className="muted">{t('messages.intro')}</p>
        </div>
        <div className="actions">
          <span className="field-inline">
            <input id="live" type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
            <label htmlFor="live">{t('messages.live')}</label>
          </span>
          <button type="button" onClick={first.reload}>
            {t('app.refresh')}
          </button>
        </div>
      </div>
      <form className="filters" onSubmit={apply} key={`${filterKey}|${language}`} aria-label={t('messages.filters')}>
        <div className="field">
          <label htmlFor="filter-endpoint">{t('messages.filter.endpoint')}</label>
          <select id="filter-endpoint" name="endpoint_id" defaultValue={filters.endpoint_id}>
            <option value="">{t('messages.filter.any')}</option>
            {endpoints.data?.items.map((e) => (
              <option key={e.id} value={e.id}>
                {e.url}
              </option>
            ))}
            {filters.endpoint_id && !endpoints.data?.items.some((e) => e.id === filters.endpoint_id) ? <option value={filters.endpoint_id}>{filters.endpoint_id}</option> : null}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-type">{t('messages.filter.type')}</label>
          <select id="filter-type" name="event_type" defaultValue={filters.event_type}>
            <option value="">{t('messages.filter.any')}</option>
            {types?.map((type) => (
              <option key={type.type} value={type.type}>
                {type.type}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-status">{t('messages.filter.status')}</label>
          <select id="filter-status" name="status" defaultValue={filters.status}>
            <option value="">{t('messages.filter.any')}</option>
            {statuses.map((status) => (
              <option key={status} value={status}>
                {t(`mstatus.${status}` as MessageKey)}
              </option>
            ))}
          </select>
        </div>
        <DateTimeField id="filter-since" name="since" label={t('messages.filter.since')} defaultValue={filters.since ? formatDateTimeInput(filters.since, language) : ''} invalid={badDates.has('since')} />
        <DateTimeField id="filter-until" name="until" label={t('messages.filter.until')} defaultValue={filters.until ? formatDateTimeInput(filters.until, language) : ''} invalid={badDates.has('until')} />
        <div className="actions filters-actions">
          <button type="submit" className="button-primary">
            {t('messages.filter.apply')}
          </button>
          {filtered ? (
            <Link to="/messages" className="button">
              {t('messages.filter.clear')}
            </Link>
          ) : null}
        </div>
      </form>
      <ErrorMessage error={first.error} />
      {first.loading && !first.data ? <Loading /> : null}
      {first.data && items.length === 0 ? (
        <EmptyState title={t('messages.empty.title')}>
          <p>{filtered ? t('messages.empty.filtered') : t('messages.empty.body')}</p>
        </EmptyState>
      ) : null}
      {items.length > 0 ? (
        <TableWrap label={t('messages.title')}>
          <table aria-describedby="messages-caption">
            <caption id="messages-caption" className="visually-hidden">
              {t('messages.title')}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('messages.col.time')}</th>
                <th scope="col">{t('messages.col.type')}</th>
                <th scope="col">{t('messages.col.status')}</th>
                <th scope="col">{t('messages.col.attempts')}</th>
                <th scope="col">{t('messages.col.lastCode')}</th>
                <th scope="col">{t('messages.col.purchase')}</th>
                <th scope="col">{t('messages.col.endpoint')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((message) => (
                <tr key={message.message_id}>
                  <td>
                    <Link to={`/messages/${message.message_id}`}>{formatTime(message.created_at, language)}</Link>
                  </td>
                  <td>
                    <code>{message.event_type}</code>
                  </td>
                  <td>
                    <MessageStatusBadge message={message} />
                  </td>
                  <td>{message.attempt_count}</td>
                  <td>{message.last_status_code ?? message.last_error ?? '—'}</td>
                  <td>
                    <code className="small">{message.purchase_id}</code>
                  </td>
                  <td className="url-cell small">{urlOf(message.endpoint_id)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <ErrorMessage error={moreError} />
      {cursor ? (
        <button type="button" onClick={() => void loadMore()}>
          {t('messages.more')}
        </button>
      ) : null}
    </>
  );
}
