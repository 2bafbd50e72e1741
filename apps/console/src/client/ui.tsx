import { useState, type ChangeEvent, type ReactNode } from 'react';
import { dateTimeInputFormat } from './format';
import type { MessageSummary } from './api';
import { useErrorText, useI18n } from './core';
import type { MessageKey } from './i18n';

/** An error for the user: announced by screen readers, in words (no stack, no code alone). */
export function ErrorMessage({ error }: { error: unknown }) {
  const text = useErrorText();
  if (error === undefined || error === null) return null;
  return (
    <div className="notice notice-error" role="alert">
      {text(error)}
    </div>
  );
}

/** A success or information note, announced politely. */
export function Notice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="notice notice-ok" role="status">
      {children}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" role="status">
      {t('app.loading')}
    </p>
  );
}

export function EnabledBadge({ enabled }: { enabled: boolean }) {
  const { t } = useI18n();
  return <span className={`badge ${enabled ? 'badge-ok' : 'badge-off'}`}>{enabled ? t('status.enabled') : t('status.disabled')}</span>;
}

const messageStatusClass: Record<MessageSummary['status'], string> = {
  pending: 'badge-wait',
  sending: 'badge-wait',
  succeeded: 'badge-ok',
  failed: 'badge-warn',
  exhausted: 'badge-bad',
  skipped: 'badge-off',
};

/**
 * A message's situation in words that say what delivery is doing: a pending
 * message that has been tried already is a scheduled retry (with the last
 * answer), not one waiting to be sent.
 */
export function MessageStatusBadge({ message }: { message: Pick<MessageSummary, 'status' | 'attempt_count' | 'last_status_code' | 'last_error'> }) {
  const { t } = useI18n();
  if (message.status === 'pending' && message.attempt_count > 0) {
    const last = message.last_status_code !== null ? String(message.last_status_code) : (message.last_error ?? '—');
    return <span className="badge badge-warn">{t('mstatus.retrying', { count: message.attempt_count, last })}</span>;
  }
  const key = message.status === 'pending' ? 'mstatus.queued' : (`mstatus.${message.status}` as MessageKey);
  return <span className={`badge ${messageStatusClass[message.status]}`}>{t(key)}</span>;
}

/**
 * A date and time typed in the page's language (see format.ts); the format is
 * the placeholder and the hint, and a value that is no date is said so.
 */
export function DateTimeField({
  id,
  name,
  label,
  value,
  defaultValue,
  onChange,
  invalid,
  required,
}: {
  id: string;
  name?: string;
  label: string;
  value?: string;
  defaultValue?: string;
  onChange?(value: string): void;
  invalid?: boolean;
  required?: boolean;
}) {
  const { t, language } = useI18n();
  const format = dateTimeInputFormat[language];
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        placeholder={format}
        required={required}
        {...(value !== undefined ? { value, onChange: (e: ChangeEvent<HTMLInputElement>) => onChange?.(e.target.value) } : { defaultValue })}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={`${id}-hint`}
      />
      <p id={`${id}-hint`} className={invalid ? 'field-error' : 'hint'}>
        {invalid ? t('date.invalid', { format }) : t('date.hint', { format })}
      </p>
    </div>
  );
}

export function CopyButton({ value, label }: { value: string; label?: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="button-small"
      onClick={() => {
        void navigator.clipboard?.writeText(value).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
    >
      {copied ? t('app.copied') : (label ?? t('app.copy'))}
    </button>
  );
}

/**
 * A destructive or consequential action asked twice, inline (no window.confirm,
 * which an embedding dashboard may block): the question and Yes / No buttons,
 * with focus on "No".
 */
export function ConfirmAction({ label, question, onConfirm, danger, disabled }: { label: string; question: string; onConfirm(): void; danger?: boolean; disabled?: boolean }) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={danger ? 'button-danger' : ''} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        className={danger ? 'button-danger' : ''}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {t('app.yes')}
      </button>
      <button type="button" autoFocus onClick={() => setAsking(false)}>
        {t('app.no')}
      </button>
    </span>
  );
}

export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" tabIndex={0} aria-label={label}>
      <code>{JSON.stringify(value, null, 2)}</code>
    </pre>
  );
}

/** A table that may scroll sideways (on a phone): a named region the keyboard can reach and scroll. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
