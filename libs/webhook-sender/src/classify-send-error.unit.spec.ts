import { errors } from 'undici';
import type { AttemptErrorClass } from '@gancho/delivery-domain';
import { classifySendError, DeadlineExceededError } from './classify-send-error';
import { HostResolutionError, SsrfBlockedError } from './guarded-connector';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('classifySendError', () => {
  it.each<[string, unknown, AttemptErrorClass]>([
    ['our SSRF refusal', new SsrfBlockedError('rebind.example', '127.0.0.1', 'loopback'), 'ssrf_blocked'],
    ['our deadline', new DeadlineExceededError(500), 'timeout'],
    ['undici connect timeout', new errors.ConnectTimeoutError(), 'timeout'],
    ['undici headers timeout', new errors.HeadersTimeoutError(), 'timeout'],
    ['undici body timeout', new errors.BodyTimeoutError(), 'timeout'],
    ['undici abort', new errors.RequestAbortedError(), 'timeout'],
    ['AbortSignal.timeout()', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout'],
    ['ECONNREFUSED', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), 'connect_refused'],
    ['both families refused', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), { code: 'ECONNREFUSED' }), 'connect_refused'],
    ['ENOTFOUND', withCode('ENOTFOUND', 'getaddrinfo ENOTFOUND nonexistent.invalid'), 'dns'],
    ['EAI_AGAIN', withCode('EAI_AGAIN', 'getaddrinfo EAI_AGAIN hooks.example.com'), 'dns'],
    ['a resolver failure whatever its code', new HostResolutionError('hooks.example.com', withCode('ECONNREFUSED')), 'dns'],
    ['self-signed', withCode('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'tls'],
    ['self-signed in chain', withCode('SELF_SIGNED_CERT_IN_CHAIN'), 'tls'],
    ['expired', withCode('CERT_HAS_EXPIRED', 'certificate has expired'), 'tls'],
    ['unknown issuer', withCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'tls'],
    ['hostname mismatch', withCode('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), 'tls'],
    ['a handshake failure', withCode('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls'],
    ['ECONNRESET', withCode('ECONNRESET', 'read ECONNRESET'), 'reset'],
    ['socket hang up', new Error('socket hang up'), 'reset'],
    ['undici socket error wrapping a reset', new errors.SocketError('other side closed'), 'reset'],
    ['undici header overflow', new errors.HeadersOverflowError(), 'body_too_large'],
    ['an unknown error', new Error('something odd'), 'other'],
    ['not an error at all', 'a string', 'other'],
  ])('classifies %s', (_what, error, expected) => {
    expect(classifySendError(error).errorClass).toBe(expected);
  });

  it('looks through causes, and keeps every message', () => {
    const wrapped = new errors.RequestAbortedError();
    const error = new Error('fetch failed', { cause: withCode('ECONNRESET', 'read ECONNRESET') });
    expect(classifySendError(error)).toEqual({ errorClass: 'reset', message: 'fetch failed <- read ECONNRESET' });
    expect(classifySendError(new Error('outer', { cause: wrapped })).errorClass).toBe('timeout');
  });

  it('lets the outermost recognised error win', () => {
    const error = new HostResolutionError('hooks.example.com', withCode('ETIMEDOUT'));
    expect(classifySendError(error)).toMatchObject({ errorClass: 'dns', message: expect.stringContaining('hooks.example.com could not be resolved') });
  });
});
