import { endpointHeaderSecretContext } from '@gancho/contracts';
import type { SecretBox } from '@gancho/secret-box';
import { headerValueHint, type SealedHeaderValue, type SealHeaderValue } from '@gancho/subscriptions-domain';

/** Seals a custom header value under its endpoint's and name's own context, with the hint the API shows. */
export function headerSealer(box: SecretBox): SealHeaderValue {
  return (endpointId, name, value) => ({ sealed: box.seal(value, endpointHeaderSecretContext(endpointId, name)), hint: headerValueHint(value) });
}

/**
 * The headers after a PATCH: a header given with a value is set (replacing
 * one of the same name, in any case), a header given as null is removed, and
 * every header not named keeps its value. A value given again unchanged keeps
 * its sealed form, so resending the same headers records no change.
 */
export function patchedHeaders(box: SecretBox, endpointId: string, current: Readonly<Record<string, SealedHeaderValue>>, patch: Readonly<Record<string, string | null>>): Record<string, SealedHeaderValue> {
  const seal = headerSealer(box);
  const result: Record<string, SealedHeaderValue> = { ...current };
  for (const [name, value] of Object.entries(patch)) {
    const existingName = Object.keys(result).find((known) => known.toLowerCase() === name.toLowerCase());
    const existing = existingName === undefined ? undefined : result[existingName];
    if (existingName !== undefined) delete result[existingName];
    if (value === null) continue;
    const unchanged = existing !== undefined && existingName === name && box.open(existing.sealed, endpointHeaderSecretContext(endpointId, name)) === value;
    result[name] = unchanged ? existing : seal(endpointId, name, value);
  }
  return result;
}
