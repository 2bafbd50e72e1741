import { addressRefusalReasons } from '@gancho/url-safety';
import { hasMessage } from './i18n';
import { problemText } from './problem-text';

// Server errors become sentences in the page's language from their stable codes; the English `detail` never shows
// in Portuguese.
describe('problem texts', () => {
  const refused = (reason: string) => ({ status: 422, code: 'ENDPOINT_URL_NOT_ALLOWED', reason, detail: `Gancho cannot deliver to this URL: ${reason}` });

  it('says why a URL is refused, in each language, for every reason the URL policy gives', () => {
    expect(problemText(refused('loopback'), 'pt-BR')).toBe('O Gancho não pode entregar nesta URL: é um endereço desta máquina (loopback), bloqueado nesta instalação.');
    expect(problemText(refused('loopback'), 'en')).toBe('Gancho cannot deliver to this URL: it is an address of this machine (loopback), blocked on this installation.');
    for (const reason of [...addressRefusalReasons, 'malformed_url', 'scheme_not_allowed', 'userinfo_not_allowed', 'private_hostname', 'unresolvable']) {
      expect({ reason, translated: hasMessage(`urlRefusal.${reason}`) }).toEqual({ reason, translated: true });
    }
    expect(problemText(refused('something_new'), 'pt-BR')).toBe('O Gancho não pode entregar nesta URL: o endereço não é permitido.');
  });

  it('names the fields of a validation failure, without the service’s English in Portuguese', () => {
    const problem = { status: 400, code: 'VALIDATION_FAILED', detail: 'The request body is invalid.', errors: [{ path: 'url', message: 'Invalid URL' }] };
    expect(problemText(problem, 'pt-BR')).toBe('Revise os campos: URL do endpoint: valor inválido');
    expect(problemText(problem, 'en')).toBe('Please check the fields: Endpoint URL: Invalid URL');
  });

  it('maps other stable codes, and shows an unknown one by its code in Portuguese', () => {
    expect(problemText({ status: 404, code: 'ENDPOINT_NOT_FOUND', detail: 'There is no endpoint ep_1.' }, 'pt-BR')).toBe('Este endpoint não existe (ou foi excluído).');
    expect(problemText({ status: 409, code: 'ILLEGAL_TRANSITION', detail: 'A message that is succeeded cannot be skipped.' }, 'en')).toBe('This action is not possible in the current state (the page was refreshed).');
    expect(problemText({ status: 418, code: 'SOMETHING_NEW', detail: 'In English.' }, 'pt-BR')).toBe('Algo deu errado (código SOMETHING_NEW).');
    expect(problemText({ status: 0, code: 'NETWORK_ERROR' }, 'pt-BR')).toBe('Não foi possível falar com o servidor. Verifique a conexão e tente de novo.');
  });
});
