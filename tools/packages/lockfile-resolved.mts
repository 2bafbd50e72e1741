// The tarball address of every registry package in package-lock.json
// (`resolved`). Without it `npm ci` first asks the registry for each
// package's metadata (a thousand requests, about a third of a cold install)
// just to learn where the tarball is. This repository's .npmrc keeps npm
// writing it (`omit-lockfile-registry-resolved=false`, which wins over a user
// setting); a lockfile written without it is restored by
//
//   node tools/packages/lockfile-resolved.mts --write
//
// which adds the registry's standard address for each entry that lacks one
// (`npm ci` checks every tarball against the entry's `integrity` anyway).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  [field: string]: unknown;
}

export interface Lockfile {
  packages: Record<string, LockEntry>;
  [field: string]: unknown;
}

export const lockfilePath = path.join(repoRoot, 'package-lock.json');

/** Installed from the registry (a version and an integrity, not a workspace link) with no tarball address. */
export function entriesWithoutResolved(lock: Lockfile): string[] {
  return Object.entries(lock.packages)
    .filter(([key, entry]) => key.includes('node_modules/') && !entry.link && entry.integrity !== undefined && entry.resolved === undefined)
    .map(([key]) => key);
}

/** The registry's address of an entry's tarball: `<registry>/<name>/-/<name without scope>-<version>.tgz`. */
export function registryTarball(key: string, entry: LockEntry): string {
  // An alias (`"string-width-cjs": "npm:string-width@…"`) names the real package in `name`.
  const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
  return `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
}

/** The lockfile with `resolved` added, right after `version` as npm writes it, wherever it is missing. */
export function withResolved(lock: Lockfile): Lockfile {
  const packages: Record<string, LockEntry> = {};
  const missing = new Set(entriesWithoutResolved(lock));
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!missing.has(key)) {
      packages[key] = entry;
      continue;
    }
    const filled: LockEntry = {};
    for (const [field, value] of Object.entries(entry)) {
      filled[field] = value;
      if (field === 'version') filled.resolved = registryTarball(key, entry);
    }
    packages[key] = filled;
  }
  return { ...lock, packages };
}

if (import.meta.main) {
  const lock = JSON.parse(readFileSync(lockfilePath, 'utf8')) as Lockfile;
  const missing = entriesWithoutResolved(lock);
  if (process.argv.includes('--write') && missing.length > 0) writeFileSync(lockfilePath, `${JSON.stringify(withResolved(lock), null, 2)}\n`);
  process.stdout.write(`${missing.length} registry packages without resolved${process.argv.includes('--write') && missing.length > 0 ? ': added' : ''}\n`);
}
