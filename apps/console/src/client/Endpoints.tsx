import { useState } from 'react';
import { api, type Endpoint, type Page } from './api';
import { isAllEvents } from './catalog';
import { Link, useI18n, useLoad } from './core';
import type { MessageKey } from './i18n';
import { EmptyState, EnabledBadge, ErrorMessage, Loading, TableWrap } from './ui';

export function destinationType(endpoint: Endpoint): string {
  return endpoint.destination?.type ?? 'webhook';
}

export function EndpointsPage() {
  const { t } = useI18n();
  const [pages, setPages] = useState<Endpoint[][]>([]);
  const first = useLoad(() => api<Page<Endpoint>>('subscriptions', '/endpoints?limit=50'), []);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const nextCursor = cursor === undefined ? first.data?.next_cursor : cursor;
  const endpoints = [...(first.data?.items ?? []), ...pages.flat()];

  const loadMore = async () => {
    if (!nextCursor) return;
    try {
      const page = await api<Page<Endpoint>>('subscriptions', `/endpoints?limit=50&cursor=${encodeURIComponent(nextCursor)}`);
      setPages((p) => [...p, page.items]);
      setCursor(page.next_cursor);
    } catch (error) {
      setMoreError(error);
    }
  };

  return (
    <>
      <div className="page-header">
        <div>
          <h1>{t('endpoints.title')}</h1>
          <p className="muted">{t('endpoints.intro')}</p>
        </div>
        <Link to="/endpoints/new" className="button button-primary">
          {t('endpoints.new')}
        </Link>
      </div>
      <ErrorMessage error={first.error} />
      {first.loading && !first.data ? <Loading /> : null}
      {first.data && endpoints.length === 0 ? (
        <EmptyState title={t('endpoints.empty.title')}>
          <p>{t('endpoints.empty.body')}</p>
          <Link to="/endpoints/new" className="button button-primary">
            {t('endpoints.new')}
          </Link>
        </EmptyState>
      ) : null}
      {endpoints.length > 0 ? (
        <TableWrap label={t('endpoints.title')}>
          <table>
            <caption className="visually-hidden">{t('endpoints.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('endpoints.col.url')}</th>
                <th scope="col">{t('endpoints.col.type')}</th>
                <th scope="col">{t('endpoints.col.events')}</th>
                <th scope="col">{t('endpoints.col.status')}</th>
                <th scope="col">{t('endpoints.col.description')}</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((endpoint) => (
                <tr key={endpoint.id}>
                  <td className="url-cell">
                    <Link to={`/endpoints/${endpoint.id}`}>{endpoint.url}</Link>
                  </td>
                  <td>{t(`endpoint.type.${destinationType(endpoint)}` as MessageKey)}</td>
                  <td>{isAllEvents(endpoint.event_types) ? t('endpoints.allEvents') : t('endpoints.nEvents', { count: endpoint.event_types.length })}</td>
                  <td>
                    <EnabledBadge enabled={endpoint.enabled} />
                    {!endpoint.enabled && endpoint.disabled_reason ? <span className="muted small"> {t(`reason.${endpoint.disabled_reason}` as MessageKey)}</span> : null}
                  </td>
                  <td>{endpoint.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      <ErrorMessage error={moreError} />
      {nextCursor ? (
        <button type="button" onClick={() => void loadMore()}>
          {t('endpoints.more')}
        </button>
      ) : null}
    </>
  );
}
