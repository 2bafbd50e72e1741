import { useState } from 'react';
import { phaseOrder } from './catalog';
import { useI18n } from './core';
import type { MessageKey } from './i18n';
import { emptyBuilderFields, fieldsOfFilter, filterOfFields, isPrice, type FilterBuilderFields, type PayloadFilter } from './payload-filter-builder';
import { JsonBlock } from './ui';

/**
 * The endpoint form's payload filter: a builder for one course, one phase and
 * a price range, with the filter's JSON as the API will receive it. A filter
 * written through the API that the builder cannot show stays as it is until
 * the partner builds another or removes it.
 */
export function PayloadFilterEditor({ value, onChange }: { value: PayloadFilter | null; onChange(next: PayloadFilter | null): void }) {
  const { t } = useI18n();
  const [fields, setFields] = useState<FilterBuilderFields | null>(() => fieldsOfFilter(value));
  const update = (next: FilterBuilderFields) => {
    setFields(next);
    onChange(filterOfFields(next));
  };
  const priceField = (key: 'priceAbove' | 'priceBelow', id: string, label: MessageKey) => {
    const current = fields?.[key] ?? '';
    const invalid = !isPrice(current);
    return (
      <div className="field">
        <label htmlFor={id}>{t(label)}</label>
        <input id={id} inputMode="decimal" value={current} aria-invalid={invalid} aria-describedby={`${id}-hint`} onChange={(e) => update({ ...(fields ?? emptyBuilderFields), [key]: e.target.value })} />
        <p id={`${id}-hint`} className={invalid ? 'field-error' : 'hint'}>
          {invalid ? t('form.filter.price.invalid') : t('form.filter.price.hint')}
        </p>
      </div>
    );
  };
  return (
    <fieldset className="payload-filter">
      <legend>{t('form.filter')}</legend>
      <p className="hint">{t('form.filter.hint')}</p>
      {fields === null ? (
        <div>
          <p>{t('form.filter.advanced')}</p>
          <button
            type="button"
            className="button-small"
            onClick={() => {
              setFields(emptyBuilderFields);
              onChange(null);
            }}
          >
            {t('form.filter.replace')}
          </button>
        </div>
      ) : (
        <>
          <div className="field">
            <label htmlFor="filter-course">{t('form.filter.course')}</label>
            <input id="filter-course" value={fields.courseId} placeholder="crs_data_science" onChange={(e) => update({ ...fields, courseId: e.target.value })} aria-describedby="filter-course-hint" />
            <p id="filter-course-hint" className="hint">
              {t('form.filter.course.hint')}
            </p>
          </div>
          <div className="field">
            <label htmlFor="filter-phase">{t('form.filter.phase')}</label>
            <select id="filter-phase" value={fields.phase} onChange={(e) => update({ ...fields, phase: e.target.value })}>
              <option value="">{t('form.filter.phase.any')}</option>
              {phaseOrder.map((phase) => (
                <option key={phase} value={phase}>
                  {t(`phase.${phase}` as MessageKey)}
                </option>
              ))}
            </select>
          </div>
          {priceField('priceAbove', 'filter-price-above', 'form.filter.priceAbove')}
          {priceField('priceBelow', 'filter-price-below', 'form.filter.priceBelow')}
        </>
      )}
      <p>
        <strong>{t('form.filter.json')}</strong>
      </p>
      {value === null ? <p className="muted small">{t('form.filter.none')}</p> : <JsonBlock value={value} label={t('form.filter.json')} />}
    </fieldset>
  );
}
