import { useState, type ReactNode } from 'react';
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

export function MessageStatusBadge({ status }: { status: MessageSummary['status'] }) {
  const { t } = useI18n();
  return <span className={`badge ${messageStatusClass[status]}`}>{t(`mstatus.${status}` as MessageKey)}</span>;
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
