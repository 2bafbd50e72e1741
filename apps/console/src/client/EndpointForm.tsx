import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, type CreateEndpointBody, type Endpoint, type EndpointOrdering, type EventTypeInfo, type UpdateEndpointBody } from './api';
import { groupByPhase, isAllEvents, useCatalog } from './catalog';
import { Link, navigate, useI18n, useLoad } from './core';
import { AuthEditor, authBody, authFormOf, emptyAuthForm, type AuthForm } from './EndpointAuth';
import { eventDescription } from './event-descriptions';
import type { MessageKey } from './i18n';
import { isOperationalEntry, OperationalEventsFieldset } from './OperationalEvents';
import { ErrorMessage, JsonBlock, Loading } from './ui';
import type { PayloadFilter } from './payload-filter-builder';
import { PayloadFilterEditor } from './PayloadFilterEditor';

interface HeaderRow {
  name: string;
  /** Typed by the partner; for a stored header, empty keeps its value. Stored values are never shown back. */
  value: string;
  /** Set for a header the endpoint already has: its value is kept unless a new one is typed. */
  stored?: { last4: string | null };
}

interface FormState {
  destination: 'webhook' | 'activecampaign';
  acApiUrl: string;
  /** Typed by the partner; empty on edit keeps the stored token. Never shown back. */
  acApiToken: string;
  url: string;
  description: string;
  enabled: boolean;
  allEvents: boolean;
  types: Set<string>;
  /** Operational event types (or their prefixes), which `*` does not include. */
  operational: Set<string>;
  headers: HeaderRow[];
  rateLimit: string;
  ordering: EndpointOrdering;
  payloadFilter: PayloadFilter | null;
  auth: AuthForm;
  includePersonalData: boolean;
}

/** What the service itself chooses when a new endpoint leaves ordering out. */
const defaultOrdering: Record<FormState['destination'], EndpointOrdering> = { webhook: 'none', activecampaign: 'per_purchase' };

const emptyForm: FormState = {
  destination: 'webhook',
  acApiUrl: '',
  acApiToken: '',
  url: '',
  description: '',
  enabled: true,
  allEvents: false,
  types: new Set(),
  operational: new Set(),
  headers: [],
  rateLimit: '',
  ordering: defaultOrdering.webhook,
  payloadFilter: null,
  auth: emptyAuthForm,
  includePersonalData: true,
};

function formOf(endpoint: Endpoint): FormState {
  const destination = endpoint.destination;
  return {
    destination: destination?.type ?? 'webhook',
    acApiUrl: destination?.type === 'activecampaign' ? destination.api_url : '',
    acApiToken: '',
    url: endpoint.url,
    description: endpoint.description,
    enabled: endpoint.enabled,
    allEvents: isAllEvents(endpoint.event_types),
    types: new Set(isAllEvents(endpoint.event_types) ? [] : endpoint.event_types.filter((entry) => !isOperationalEntry(entry))),
    operational: new Set(endpoint.event_types.filter(isOperationalEntry)),
    headers: Object.entries(endpoint.headers).map(([name, header]) => ({ name, value: '', stored: { last4: header.value_last4 } })),
    rateLimit: endpoint.rate_limit_per_second === null ? '' : String(endpoint.rate_limit_per_second),
    ordering: endpoint.ordering,
    payloadFilter: (endpoint.payload_filter as PayloadFilter | null | undefined) ?? null,
    auth: authFormOf(endpoint.auth),
    includePersonalData: endpoint.include_personal_data,
  };
}

/**
 * The PATCH of the headers: a typed value sets its header, a stored header
 * removed from the form is removed (null), and a stored header left empty is
 * left out, so the service keeps its value.
 */
function headersPatch(endpoint: Endpoint, rows: HeaderRow[]): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  const kept = new Set(rows.filter((row) => row.stored).map((row) => row.name));
  for (const name of Object.keys(endpoint.headers)) if (!kept.has(name)) patch[name] = null;
  for (const row of rows) {
    const name = row.name.trim();
    if (name !== '' && (!row.stored || row.value !== '')) patch[name] = row.value;
  }
  return patch;
}

export function EndpointFormPage({ endpointId }: { endpointId?: string | undefined }) {
  const { t } = useI18n();
  const existing = useLoad(() => (endpointId ? api<Endpoint>('subscriptions', `/endpoints/${endpointId}`) : Promise.resolve(undefined)), [endpointId]);
  if (endpointId && existing.loading && !existing.data) return <Loading />;
  if (endpointId && !existing.data) return <ErrorMessage error={existing.error} />;
  return (
    <>
      <p>
        <Link to={endpointId ? `/endpoints/${endpointId}` : '/endpoints'}>← {t('app.back')}</Link>
      </p>
      <h1>{endpointId ? t('form.edit.title') : t('form.create.title')}</h1>
      <EndpointForm endpoint={existing.data} />
    </>
  );
}

function EndpointForm({ endpoint }: { endpoint: Endpoint | undefined }) {
  const { t } = useI18n();
  const [form, setForm] = useState<FormState>(() => (endpoint ? formOf(endpoint) : emptyForm));
  const [error, setError] = useState<unknown>(undefined);
  const [eventsProblem, setEventsProblem] = useState<string | null>(null);
  const [authProblem, setAuthProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { types, error: catalogError } = useCatalog();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const operational = form.destination === 'webhook' ? [...form.operational] : [];
    if (!form.allEvents && form.types.size === 0 && operational.length === 0) {
      setEventsProblem(t('form.events.none'));
      document.getElementById('events-all')?.focus();
      return;
    }
    setEventsProblem(null);
    const auth = form.destination === 'webhook' ? authBody(form.auth, endpoint?.auth) : undefined;
    if (auth === 'secret_needed') {
      setAuthProblem(t('auth.secretNeeded'));
      document.getElementById('auth-problem')?.focus();
      return;
    }
    setAuthProblem(null);
    const headers = endpoint ? headersPatch(endpoint, form.headers) : Object.fromEntries(form.headers.filter((h) => h.name.trim() !== '').map((h) => [h.name.trim(), h.value]));
    const common = {
      description: form.description,
      event_types: [...(form.allEvents ? ['*'] : form.types), ...operational],
      enabled: form.enabled,
      rate_limit_per_second: form.rateLimit.trim() === '' ? null : Number(form.rateLimit),
      ordering: form.ordering,
      payload_filter: form.payloadFilter,
      include_personal_data: form.destination === 'activecampaign' || form.includePersonalData,
    };
    const wasActiveCampaign = endpoint?.destination?.type === 'activecampaign';
    const body: CreateEndpointBody & UpdateEndpointBody =
      form.destination === 'webhook'
        ? { ...common, url: form.url.trim(), headers, ...(wasActiveCampaign ? { destination: { type: 'webhook' as const } } : {}), ...(auth === undefined ? {} : { auth }) }
        : {
            ...common,
            // The token is sent only when typed: left empty on edit, the stored one is kept.
            destination: { type: 'activecampaign' as const, api_url: form.acApiUrl.trim(), ...(form.acApiToken ? { api_token: form.acApiToken } : {}) },
          };
    setBusy(true);
    setError(undefined);
    try {
      const saved = endpoint ? await api<Endpoint>('subscriptions', `/endpoints/${endpoint.id}`, { method: 'PATCH', body }) : await api<Endpoint>('subscriptions', '/endpoints', { method: 'POST', body });
      navigate(`/endpoints/${saved.id}?saved=1`);
    } catch (caught) {
      setError(caught);
      setBusy(false);
      document.getElementById('form-error')?.focus();
    }
  };

  return (
    <form onSubmit={submit} className="form" noValidate>
      <div id="form-error" tabIndex={-1}>
        <ErrorMessage error={error} />
      </div>
      <fieldset>
        <legend>{t('form.destination')}</legend>
        <div className="field field-inline">
          <input
            id="destination-webhook"
            type="radio"
            name="destination"
            checked={form.destination === 'webhook'}
            onChange={() => setForm({ ...form, destination: 'webhook', ...(endpoint ? {} : { ordering: defaultOrdering.webhook }) })}
          />
          <label htmlFor="destination-webhook">{t('form.destination.webhook')}</label>
        </div>
        <div className="field field-inline">
          <input
            id="destination-activecampaign"
            type="radio"
            name="destination"
            checked={form.destination === 'activecampaign'}
            onChange={() => setForm({ ...form, destination: 'activecampaign', ...(endpoint ? {} : { ordering: defaultOrdering.activecampaign }) })}
          />
          <label htmlFor="destination-activecampaign">{t('form.destination.activecampaign')}</label>
        </div>
      </fieldset>
      {form.destination === 'webhook' ? (
        <div className="field">
          <label htmlFor="endpoint-url">{t('form.url')}</label>
          <input id="endpoint-url" type="url" required value={form.url} onChange={(e) => setForm({ ...form, url: e.target.value })} aria-describedby="endpoint-url-hint" />
          <p id="endpoint-url-hint" className="hint">
            {t('form.url.hint')}
          </p>
        </div>
      ) : (
        <>
          <div className="field">
            <label htmlFor="ac-api-url">{t('form.ac.apiUrl')}</label>
            <input id="ac-api-url" type="url" required value={form.acApiUrl} onChange={(e) => setForm({ ...form, acApiUrl: e.target.value })} aria-describedby="ac-api-url-hint" />
            <p id="ac-api-url-hint" className="hint">
              {t('form.ac.apiUrl.hint')}
            </p>
          </div>
          <div className="field">
            <label htmlFor="ac-api-token">{t('form.ac.apiToken')}</label>
            <input
              id="ac-api-token"
              type="password"
              autoComplete="off"
              spellCheck={false}
              required={endpoint?.destination?.type !== 'activecampaign'}
              value={form.acApiToken}
              onChange={(e) => setForm({ ...form, acApiToken: e.target.value })}
              aria-describedby="ac-api-token-hint"
            />
            <p id="ac-api-token-hint" className="hint">
              {endpoint?.destination?.type === 'activecampaign' ? t('form.ac.apiToken.keep', { masked: `••••${endpoint.destination.api_token_last4}` }) : t('form.ac.apiToken.hint')}
            </p>
          </div>
        </>
      )}
      <div className="field">
        <label htmlFor="endpoint-description">{t('form.description')}</label>
        <input id="endpoint-description" value={form.description} maxLength={500} onChange={(e) => setForm({ ...form, description: e.target.value })} aria-describedby="endpoint-description-hint" />
        <p id="endpoint-description-hint" className="hint">
          {t('form.description.hint')}
        </p>
      </div>
      <div className="field field-inline">
        <input id="endpoint-enabled" type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
        <label htmlFor="endpoint-enabled">{t('form.enabled')}</label>
      </div>

      <fieldset className="events">
        <legend>{t('form.events')}</legend>
        {eventsProblem ? (
          <p className="field-error" role="alert">
            {eventsProblem}
          </p>
        ) : null}
        <div className="field field-inline">
          <input id="events-all" type="radio" name="events-mode" checked={form.allEvents} onChange={() => setForm({ ...form, allEvents: true })} />
          <label htmlFor="events-all">{t('form.events.all')}</label>
        </div>
        <div className="field field-inline">
          <input id="events-some" type="radio" name="events-mode" checked={!form.allEvents} onChange={() => setForm({ ...form, allEvents: false })} />
          <label htmlFor="events-some">{t('form.events.some')}</label>
        </div>
        <ErrorMessage error={catalogError} />
        {!form.allEvents && types ? <EventTypePicker types={types} selected={form.types} onChange={(next) => setForm({ ...form, types: next })} /> : null}
        {!form.allEvents && !types && !catalogError ? <Loading /> : null}
      </fieldset>

      {form.destination === 'webhook' ? (
        <div className="field field-inline">
          <input
            id="endpoint-personal-data"
            type="checkbox"
            checked={form.includePersonalData}
            onChange={(e) => setForm({ ...form, includePersonalData: e.target.checked })}
            aria-describedby="endpoint-personal-data-hint"
          />
          <label htmlFor="endpoint-personal-data">{t('form.includePersonalData')}</label>
          <p id="endpoint-personal-data-hint" className="hint">
            {t('form.includePersonalData.hint')}
          </p>
        </div>
      ) : null}
      {form.destination === 'webhook' ? <OperationalEventsFieldset selected={form.operational} onChange={(operational) => setForm({ ...form, operational })} /> : null}

      {form.destination === 'webhook' ? <HeadersEditor rows={form.headers} onChange={(headers) => setForm({ ...form, headers })} /> : null}

      <PayloadFilterEditor value={form.payloadFilter} onChange={(payloadFilter) => setForm((current) => ({ ...current, payloadFilter }))} />
      {form.destination === 'webhook' ? (
        <>
          <div id="auth-problem" tabIndex={-1}>
            {authProblem ? (
              <p className="field-error" role="alert">
                {authProblem}
              </p>
            ) : null}
          </div>
          <AuthEditor form={form.auth} saved={endpoint?.auth} onChange={(auth) => setForm({ ...form, auth })} />
        </>
      ) : null}

      <fieldset>
        <legend>{t('form.ordering')}</legend>
        {(['none', 'per_purchase'] as const).map((ordering) => (
          <div key={ordering} className="type-option">
            <div className="field-inline">
              <input id={`ordering-${ordering}`} type="radio" name="ordering" checked={form.ordering === ordering} onChange={() => setForm({ ...form, ordering })} aria-describedby={`ordering-${ordering}-hint`} />
              <label htmlFor={`ordering-${ordering}`}>{t(`form.ordering.${ordering}`)}</label>
            </div>
            <p id={`ordering-${ordering}-hint`} className="hint">
              {t(`form.ordering.${ordering}.hint`)}
            </p>
          </div>
        ))}
      </fieldset>

      <div className="field">
        <label htmlFor="endpoint-rate">{t('form.rateLimit')}</label>
        <input id="endpoint-rate" type="number" min={1} max={10000} inputMode="numeric" value={form.rateLimit} onChange={(e) => setForm({ ...form, rateLimit: e.target.value })} aria-describedby="endpoint-rate-hint" />
        <p id="endpoint-rate-hint" className="hint">
          {t('form.rateLimit.hint')}
        </p>
      </div>

      <div className="actions">
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? t('form.saving') : endpoint ? t('app.save') : t('form.create')}
        </button>
        <Link to={endpoint ? `/endpoints/${endpoint.id}` : '/endpoints'} className="button">
          {t('app.cancel')}
        </Link>
      </div>
    </form>
  );
}

function EventTypePicker({ types, selected, onChange }: { types: EventTypeInfo[]; selected: Set<string>; onChange(next: Set<string>): void }) {
  const { t } = useI18n();
  const toggle = (type: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(type);
    else next.delete(type);
    onChange(next);
  };
  return (
    <div className="phases">
      {groupByPhase(types).map(([phase, list]) => {
        const all = list.every((type) => selected.has(type.type));
        const some = list.some((type) => selected.has(type.type));
        return (
          <fieldset key={phase} className="phase">
            <legend>{t('form.events.phase', { phase: t(`phase.${phase}` as MessageKey) })}</legend>
            <div className="field field-inline">
              <PhaseCheckbox
                id={`phase-${phase}`}
                checked={all}
                indeterminate={some && !all}
                onChange={(on) => {
                  const next = new Set(selected);
                  for (const type of list) {
                    if (on) next.add(type.type);
                    else next.delete(type.type);
                  }
                  onChange(next);
                }}
              />
              <label htmlFor={`phase-${phase}`}>{t('form.events.selectPhase')}</label>
            </div>
            <details className="phase-types" open={some && !all}>
              <summary>{t('form.events.showTypes', { count: list.length, chosen: list.filter((type) => selected.has(type.type)).length })}</summary>
              <ul className="types">
                {list.map((type) => (
                  <li key={type.type}>
                    <EventTypeOption info={type} checked={selected.has(type.type)} onChange={(on) => toggle(type.type, on)} />
                  </li>
                ))}
              </ul>
            </details>
          </fieldset>
        );
      })}
    </div>
  );
}

function PhaseCheckbox({ id, checked, indeterminate, onChange }: { id: string; checked: boolean; indeterminate: boolean; onChange(on: boolean): void }) {
  const [element, setElement] = useState<HTMLInputElement | null>(null);
  useEffect(() => {
    if (element) element.indeterminate = indeterminate;
  }, [element, indeterminate]);
  return <input id={id} ref={setElement} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />;
}

function EventTypeOption({ info, checked, onChange }: { info: EventTypeInfo; checked: boolean; onChange(on: boolean): void }) {
  const { t, language } = useI18n();
  const id = useId();
  const [example, setExample] = useState<unknown>(undefined);
  return (
    <div className="type-option">
      <div className="field-inline">
        <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} aria-describedby={`${id}-desc`} />
        <label htmlFor={id}>
          <code>{info.type}</code>
        </label>
      </div>
      <p id={`${id}-desc`} className="hint">
        {eventDescription(info, language)}
      </p>
      <details
        onToggle={(event) => {
          if ((event.target as HTMLDetailsElement).open && example === undefined) {
            void api<unknown>('subscriptions', `/event-types/${encodeURIComponent(info.type)}/example`).then(setExample, () => setExample(null));
          }
        }}
      >
        <summary>
          {t('form.events.details')} <span className="visually-hidden">{info.type}</span>
        </summary>
        <h4>{t('form.events.example')}</h4>
        {example === undefined ? <Loading /> : <JsonBlock value={example} label={`${t('form.events.example')} ${info.type}`} />}
        <h4>{t('form.events.schema')}</h4>
        <JsonBlock value={info.schema} label={`${t('form.events.schema')} ${info.type}`} />
      </details>
    </div>
  );
}

function HeadersEditor({ rows, onChange }: { rows: HeaderRow[]; onChange(rows: HeaderRow[]): void }) {
  const { t } = useI18n();
  const update = (index: number, row: HeaderRow) => onChange(rows.map((r, i) => (i === index ? row : r)));
  return (
    <fieldset className="headers">
      <legend>{t('form.headers')}</legend>
      <p className="hint">{t('form.headers.hint')}</p>
      {rows.length === 0 ? <p className="muted small">{t('form.headers.none')}</p> : null}
      {rows.map((row, index) => (
        <div key={index} className="header-row">
          {/* A stored header keeps its name: to rename it, remove it and add another. */}
          <input
            aria-label={t('form.headers.name', { n: index + 1 })}
            placeholder="X-Escola-Token"
            value={row.name}
            readOnly={row.stored !== undefined}
            onChange={(e) => update(index, { ...row, name: e.target.value })}
          />
          <input
            aria-label={t('form.headers.value', { n: index + 1 })}
            value={row.value}
            placeholder={row.stored ? (row.stored.last4 === null ? t('form.headers.kept') : t('form.headers.keptLast4', { last4: row.stored.last4 })) : ''}
            onChange={(e) => update(index, { ...row, value: e.target.value })}
            autoComplete="off"
          />
          <button type="button" className="button-small" onClick={() => onChange(rows.filter((_, i) => i !== index))}>
            {t('form.headers.remove', { n: index + 1 })}
          </button>
        </div>
      ))}
      <button type="button" className="button-small" onClick={() => onChange([...rows, { name: '', value: '' }])}>
        {t('form.headers.add')}
      </button>
    </fieldset>
  );
}
