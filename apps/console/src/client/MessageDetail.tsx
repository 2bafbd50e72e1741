import { useCallback, useState } from 'react';
import { api, type MessageDetail } from './api';
import { Link, useI18n, useInterval, useLoad } from './core';
import { formatMs, formatTime } from './format';
import { hasMessage, type MessageKey } from './i18n';
import { ConfirmAction, ErrorMessage, JsonBlock, Loading, MessageStatusBadge, Notice, TableWrap } from './ui';

export function MessageDetailPage({ messageId }: { messageId: string }) {
  const { t, language } = useI18n();
  const message = useLoad(() => api<MessageDetail>('delivery', `/messages/${encodeURIComponent(messageId)}`), [messageId]);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const [expecting, setExpecting] = useState<number | null>(null);
  const m = message.data;
  const unsettled = m ? m.status === 'pending' || m.status === 'sending' || (expecting !== null && m.attempts.length < expecting) : false;
  const reload = message.reload;
  useInterval(
    useCallback(() => reload(), [reload]),
    1000,
    unsettled,
  );

  if (message.loading && !m) return <Loading />;
  if (!m) {
    return (
      <>
        <p>
          <Link to="/messages">← {t('app.back')}</Link>
        </p>
        <ErrorMessage error={message.error} />
      </>
    );
  }

  const act = async (path: 'resend' | 'skip') => {
    setActionError(undefined);
    setNotice(null);
    try {
      await api('delivery', `/messages/${encodeURIComponent(m.message_id)}/${path}`, { method: 'POST' });
      setNotice(path === 'resend' ? t('message.resent') : t('message.skipped'));
      if (path === 'resend') setExpecting(m.attempts.length + 1);
      message.reload();
    } catch (error) {
      setActionError(error);
    }
  };

  return (
    <>
      <p>
        <Link to="/messages">← {t('app.back')}</Link>
      </p>
      <div className="page-header">
        <div>
          <h1 className="break">{t('message.title', { id: m.message_id })}</h1>
          <p>
            <code>{m.event_type}</code> · <MessageStatusBadge message={m} />
          </p>
        </div>
        <div className="actions">
          <button type="button" className="button-primary" onClick={() => void act('resend')} disabled={m.status === 'sending'}>
            {t('message.resend')}
          </button>
          {['pending', 'failed', 'exhausted'].includes(m.status) ? <ConfirmAction label={t('message.skip')} question={t('message.skip.confirm')} onConfirm={() => void act('skip')} /> : null}
        </div>
      </div>
      <Notice>{notice}</Notice>
      <ErrorMessage error={actionError} />
      {m.waiting_behind ? (
        <p className="notice notice-warn">
          {t('message.waitingBehind', { id: '' })}
          <Link to={`/messages/${m.waiting_behind}`}>{m.waiting_behind}</Link>
        </p>
      ) : null}
      <dl className="facts">
        <dt>{t('messages.col.time')}</dt>
        <dd>{formatTime(m.created_at, language)}</dd>
        <dt>{t('messages.col.endpoint')}</dt>
        <dd>
          <Link to={`/endpoints/${m.endpoint_id}`}>
            <code>{m.endpoint_id}</code>
          </Link>
        </dd>
        <dt>{t('messages.col.purchase')}</dt>
        <dd>
          <code>{m.purchase_id}</code>
        </dd>
        {m.next_attempt_at ? (
          <>
            <dt>{t('message.nextAttempt')}</dt>
            <dd>{formatTime(m.next_attempt_at, language)}</dd>
          </>
        ) : null}
      </dl>
      <section aria-labelledby="attempts-title">
        <h2 id="attempts-title">{t('message.attempts')}</h2>
        {m.attempts.length === 0 ? (
          <p className="muted">{t('message.noAttempts')}</p>
        ) : (
          <TableWrap label={t('message.attempts')}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('attempt.number')}</th>
                  <th scope="col">{t('attempt.at')}</th>
                  <th scope="col">{t('attempt.status')}</th>
                  <th scope="col">{t('attempt.latency')}</th>
                  <th scope="col">{t('attempt.outcome')}</th>
                  <th scope="col">{t('attempt.error')}</th>
                  <th scope="col">{t('attempt.response')}</th>
                </tr>
              </thead>
              <tbody>
                {m.attempts.map((attempt) => (
                  <tr key={attempt.attempt_number} data-testid="attempt-row">
                    <td>{attempt.attempt_number}</td>
                    <td>{formatTime(attempt.started_at, language)}</td>
                    <td>{attempt.status_code ?? '—'}</td>
                    <td>{formatMs(attempt.latency_ms, language)}</td>
                    <td>{t(`outcome.${attempt.outcome}` as MessageKey)}</td>
                    <td>
                      {attempt.error_class ? <SendErrorText errorClass={attempt.error_class} /> : '—'}
                      {attempt.error_message ? <span className="small muted"> {attempt.error_message}</span> : null}
                    </td>
                    <td>{attempt.response_snippet ? <code className="snippet">{attempt.response_snippet}</code> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
      <section aria-labelledby="payload-title">
        <h2 id="payload-title">{t('message.payload')}</h2>
        <JsonBlock value={m.payload} label={t('message.payload')} />
      </section>
    </>
  );
}

/** Why an attempt got no answer, in words (the stable class beside them, for support). */
function SendErrorText({ errorClass }: { errorClass: string }) {
  const { t } = useI18n();
  const key = `sendError.${errorClass}`;
  return (
    <>
      {hasMessage(key) ? `${t(key)} ` : null}
      <code>{errorClass}</code>
    </>
  );
}
