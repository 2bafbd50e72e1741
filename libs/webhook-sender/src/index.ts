export * from './webhook-sender';
export { classifySendError } from './classify-send-error';
export { SsrfBlockedError, HostResolutionError, resolveWithSystemDns, type AddressPolicy } from './guarded-connector';
export { ConnectionLimitError } from './endpoint-pools';
export { ClientCredentialsTokens, type ClientCredentials, type TokenResult, type ClientCredentialsTokensOptions } from './client-credentials-tokens';
