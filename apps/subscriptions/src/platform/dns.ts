import { lookup } from 'node:dns/promises';
import type { ResolveHost } from '@gancho/url-safety';

export const RESOLVE_HOST = Symbol('RESOLVE_HOST');

const notFound = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * Every A and AAAA answer for a host, as the system resolver gives them (the
 * one a connection would use); none when the name does not exist. Other
 * failures (a DNS server down) are thrown: the caller answers "try again".
 */
export const systemResolveHost: ResolveHost = async (hostname) => {
  try {
    const answers = await lookup(hostname, { all: true, verbatim: true });
    return answers.map((answer) => answer.address);
  } catch (error) {
    if (notFound.has((error as NodeJS.ErrnoException).code ?? '')) return [];
    throw error;
  }
};
