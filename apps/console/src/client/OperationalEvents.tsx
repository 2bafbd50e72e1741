import { useEffect, useId, useState } from 'react';
import { api, type OperationalEventTypeInfo } from './api';
import { useI18n } from './core';
import type { MessageKey } from './i18n';
import { ErrorMessage, JsonBlock, Loading } from './ui';

/**
 * Operational event types are named one by one in an endpoint's event_types
 * (`*` and `purchase.*` do not include them): these are the entries that do.
 */
export function isOperationalEntry(entry: string): boolean {
  return entry.startsWith('endpoint.') || entry.startsWith('message.');
}

let cached: Promise<OperationalEventTypeInfo[]> | null = null;

/** The operational event-type catalog, fetched once per page load (public, the same for everyone). */
function useOperationalCatalog(): { types: OperationalEventTypeInfo[] | undefined; error: unknown } {
  const [state, setState] = useState<{ types: OperationalEventTypeInfo[] | undefined; error: unknown }>({ types: undefined, error: undefined });
  useEffect(() => {
    cached ??= api<{ items: OperationalEventTypeInfo[] }>('subscriptions', '/operational-event-types').then((r) => r.items);
    let current = true;
    cached.then(
      (types) => current && setState({ types, error: undefined }),
      (error: unknown) => {
        cached = null;
        if (current) setState({ types: undefined, error });
      },
    );
    return () => {
      current = false;
    };
  }, []);
  return state;
}

/**
 * Which operational events an endpoint receives: one checkbox per type of the
 * catalog, with its description in the console's language and its schema. A
 * prefix saved through the API (`endpoint.*`) shows as every type it covers;
 * saving writes the types one by one.
 */
export function OperationalEventsFieldset({ selected, onChange }: { selected: Set<string>; onChange(next: Set<string>): void }) {
  const { t } = useI18n();
  const { types, error } = useOperationalCatalog();
  const covers = (type: string) => selected.has(type) || [...selected].some((entry) => entry.endsWith('.*') && type.startsWith(entry.slice(0, -1)));
  const toggle = (type: string, on: boolean) => {
    // Prefixes become the types they cover, so one of them can be unticked.
    const next = new Set(types ? types.map((info) => info.type).filter(covers) : [...selected]);
    if (on) next.add(type);
    else next.delete(type);
    onChange(next);
  };
  return (
    <fieldset className="events operational-events">
      <legend>{t('ops.title')}</legend>
      <p className="hint" id="ops-hint">
        {t('ops.hint')}
      </p>
      <ErrorMessage error={error} />
      {!types && !error ? <Loading /> : null}
      {types ? (
        <ul className="types">
          {types.map((info) => (
            <li key={info.type}>
              <OperationalTypeOption info={info} checked={covers(info.type)} onChange={(on) => toggle(info.type, on)} />
            </li>
          ))}
        </ul>
      ) : null}
    </fieldset>
  );
}

function OperationalTypeOption({ info, checked, onChange }: { info: OperationalEventTypeInfo; checked: boolean; onChange(on: boolean): void }) {
  const { t } = useI18n();
  const id = useId();
  return (
    <div className="type-option">
      <div className="field-inline">
        <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} aria-describedby={`${id}-desc`} />
        <label htmlFor={id}>
          <code>{info.type}</code>
        </label>
      </div>
      <p id={`${id}-desc`} className="hint">
        {t(`ops.type.${info.type}` as MessageKey)}
      </p>
      <details>
        <summary>
          {t('ops.details')} <span className="visually-hidden">{info.type}</span>
        </summary>
        <JsonBlock value={info.schema} label={`${t('form.events.schema')} ${info.type}`} />
      </details>
    </div>
  );
}
