import type { Problem } from './api';
import { hasMessage, translate, type Language, type MessageKey } from './i18n';

/**
 * A readable sentence, in the page's language, for any error of an API call:
 * from the problem's stable code (and, for a refused URL, its reason; for bad
 * fields, their paths), never from its English `detail` in Portuguese.
 */
export function problemText(problem: Problem, language: Language): string {
  const t = (key: MessageKey, vars?: Record<string, string | number>) => translate(language, key, vars);
  if (problem.code === 'NETWORK_ERROR') return t('error.network');
  if (problem.status === 401) return problem.reason === 'expired' ? t('signIn.portalExpired') : t('error.sessionExpired');
  if (problem.status === 429) return t('error.rateLimited', { seconds: problem.retry_after_seconds ?? 1 });
  if (problem.code === 'ENDPOINT_URL_NOT_ALLOWED') {
    const reasonKey = `urlRefusal.${problem.reason ?? 'other'}`;
    return t('problem.ENDPOINT_URL_NOT_ALLOWED', { reason: t(hasMessage(reasonKey) ? reasonKey : 'urlRefusal.other') });
  }
  if (problem.code === 'INVALID_PAYLOAD_FILTER' && problem.errors?.length) {
    // The field paths are the partner's own filter; the reasons are stable words.
    const filterProblems = problem.errors.map((error) => {
      const reasonKey = `filterProblem.${(error as { reason?: string }).reason ?? ''}`;
      return `${error.path.replace(/^payload_filter\.?/, '') || 'payload_filter'}: ${hasMessage(reasonKey) ? t(reasonKey) : error.message}`;
    });
    return t('problem.INVALID_PAYLOAD_FILTER', { detail: filterProblems.join('; ') });
  }
  if (problem.code === 'VALIDATION_FAILED' && problem.errors?.length) {
    const fields = problem.errors.map((error) => {
      const fieldKey = `field.${error.path}`;
      const field = hasMessage(fieldKey) ? t(fieldKey) : error.path;
      // The service words its field messages in English.
      return `${field}: ${language === 'en' ? error.message : t('validation.invalidValue')}`;
    });
    return t('error.validation', { detail: fields.join('; ') });
  }
  const codeKey = `problem.${problem.code}`;
  if (hasMessage(codeKey)) return t(codeKey);
  if (problem.status === 502 || problem.status === 503 || problem.status === 504) return t('error.unavailable');
  return language === 'en' && problem.detail ? t('error.generic', { detail: problem.detail }) : t('error.code', { code: problem.code });
}
