import { useCallback, useState, type FormEvent } from 'react';
import { api, query, type Endpoint, type Page, type StatusEvent } from './api';
import { useCatalog } from './catalog';
import { Link, navigate, useI18n, useInterval, useLoad, useLocation } from './core';
import { formatDateTimeInput, formatTime, parseDateTimeInput } from './format';
import { DateTimeField, EmptyState, ErrorMessage, JsonBlock, Loading, MessageStatusBadge, TableWrap } from './ui';

const filterNames = ['event_type', 'purchase_id', 'undelivered_to', 'since', 'until'] as const;
type Filters = Record<(typeof filterNames)[number], string>;

function filtersOf(search: URLSearchParams): Filters {
  return Object.fromEntries(filterNames.map((name) => [name, search.get(name) ?? ''])) as Filters;
}

/**
 * The partner's status events (GET /events), with each one's delivery to
 * every endpoint: "not delivered to endpoint X" is the catching-up view after
 * an outage, each undelivered message a link to its resend.
 */
export function EventsPage() {
  const { t, language } = useI18n();
  const { search } = useLocation();
  const filters = filtersOf(search);
  const filterKey = filterNames.map((n) => filters[n]).join('|');
  const [more, setMore] = useState<{ items: StatusEvent[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const [badDates, setBadDates] = useState<Set<string>>(new Set());
  const endpoints = useLoad(() => api<Page<Endpoint>>('subscriptions', '/endpoints?limit=100'), []);
  const { types } = useCatalog();
  const first = useLoad(() => {
    setMore(null);
    return api<Page<StatusEvent>>('delivery', `/events${query({ ...filters, limit: 50 })}`);
    // filterKey stands for the filters
  }, [filterKey]);
  const [live, setLive] = useState(true);
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
      const page = await api<Page<StatusEvent>>('delivery', `/events${query({ ...filters, limit: 50, cursor })}`);
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
      const value = String(data.get(name) ?? '').trim();
      if (name !== 'since' && name !== 'until') next[name] = value || undefined;
      else {
        const instant = parseDateTimeInput(value, language);
        if (instant === null) invalid.add(name);
        else next[name] = instant;
      }
    }
    setBadDates(invalid);
    if (invalid.size > 0) {
      document.getElementById(`events-filter-${[...invalid][0]}`)?.focus();
      return;
    }
    navigate(`/events${query(next)}`);
  };

  return (
    <>
      <div className="page-header">
        <div>
          <h1>{t('events.title')}</h1>
          <p className="muted">{t('events.intro')}</p>
        </div>
        <div className="actions">
          <span className="field-inline">
            <input id="events-live" type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
            <label htmlFor="events-live">{t('events.live')}</label>
          </span>
          <button type="button" onClick={first.reload}>
            {t('app.refresh')}
          </button>
        </div>
      </div>
      <form className="filters" onSubmit={apply} key={`${filterKey}|${language}`} aria-label={t('events.filters')}>
        <div className="field">
          <label htmlFor="events-filter-undelivered">{t('events.filter.undelivered')}</label>
          <select id="events-filter-undelivered" name="undelivered_to" defaultValue={filters.undelivered_to}>
            <option value="">{t('events.filter.none')}</option>
            {endpoints.data?.items.map((e) => (
              <option key={e.id} value={e.id}>
                {e.url || e.id}
              </option>
            ))}
            {filters.undelivered_to && !endpoints.data?.items.some((e) => e.id === filters.undelivered_to) ? <option value={filters.undelivered_to}>{filters.undelivered_to}</option> : null}
          </select>
        </div>
        <div className="field">
          <label htmlFor="events-filter-type">{t('events.filter.type')}</label>
          <select id="events-filter-type" name="event_type" defaultValue={filters.event_type}>
            <option value="">{t('events.filter.any')}</option>
            {types?.map((type) => (
              <option key={type.type} value={type.type}>
                {type.type}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="events-filter-purchase">{t('events.filter.purchase')}</label>
          <input id="events-filter-purchase" name="purchase_id" defaultValue={filters.purchase_id} spellCheck={false} autoComplete="off" />
        </div>
        <DateTimeField id="events-filter-since" name="since" label={t('events.filter.since')} defaultValue={filters.since ? formatDateTimeInput(filters.since, language) : ''} invalid={badDates.has('since')} />
        <DateTimeField id="events-filter-until" name="until" label={t('events.filter.until')} defaultValue={filters.until ? formatDateTimeInput(filters.until, language) : ''} invalid={badDates.has('until')} />
        <div className="actions filters-actions">
          <button type="submit" className="button-primary">
            {t('events.filter.apply')}
          </button>
          {filtered ? (
            <Link to="/events" className="button">
              {t('events.filter.clear')}
            </Link>
          ) : null}
        </div>
      </form>
      {filters.undelivered_to ? <p className="muted">{t('events.undelivered.hint')}</p> : null}
      <ErrorMessage error={first.error} />
      {first.loading && !first.data ? <Loading /> : null}
      {first.data && items.length === 0 ? (
        <EmptyState title={t('events.empty.title')}>
          <p>{filtered ? t('events.empty.filtered') : t('events.empty.body')}</p>
        </EmptyState>
      ) : null}
      {items.length > 0 ? (
        <TableWrap label={t('events.title')}>
          <table aria-describedby="events-caption">
            <caption id="events-caption" className="visually-hidden">
              {t('events.title')}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('events.col.time')}</th>
                <th scope="col">{t('events.col.type')}</th>
                <th scope="col">{t('events.col.purchase')}</th>
                <th scope="col">{t('events.col.deliveries')}</th>
                <th scope="col">{t('events.col.data')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((event) => (
                <tr key={event.event_id} data-testid="event-row">
                  <td>{formatTime(event.occurred_at, language)}</td>
                  <td>
                    <code>{event.type}</code>
                  </td>
                  <td>
                    <code className="small">{event.purchase_id}</code>
                  </td>
                  <td>
                    <EventDeliveries event={event} undeliveredTo={filters.undelivered_to} urlOf={urlOf} />
                  </td>
                  <td>
                    <details>
                      <summary>{t('events.data.show')}</summary>
                      <JsonBlock value={event.data} label={t('events.data.label', { id: event.event_id })} />
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <ErrorMessage error={moreError} />
      {cursor ? (
        <button type="button" onClick={() => void loadMore()}>
          {t('events.more')}
        </button>
      ) : null}
    </>
  );
}

/** One line per endpoint the event went to: where, and how it stands (a link to the message, to resend it). */
function EventDeliveries({ event, undeliveredTo, urlOf }: { event: StatusEvent; undeliveredTo: string; urlOf(id: string): string }) {
  const { t } = useI18n();
  const notRouted = undeliveredTo !== '' && !event.deliveries.some((d) => d.endpoint_id === undeliveredTo);
  if (event.deliveries.length === 0 && !notRouted) return <span className="muted small">{t('events.noEndpoint')}</span>;
  return (
    <ul className="plain-list">
      {event.deliveries.map((delivery) => (
        <li key={delivery.message_id}>
          <Link to={`/messages/${delivery.message_id}`}>
            <MessageStatusBadge message={delivery} />
          </Link>{' '}
          <span className="url-cell small">{urlOf(delivery.endpoint_id)}</span>
        </li>
      ))}
      {notRouted ? (
        <li>
          <span className="badge badge-off">{t('events.notRouted')}</span> <span className="url-cell small">{urlOf(undeliveredTo)}</span>
        </li>
      ) : null}
    </ul>
  );
}
