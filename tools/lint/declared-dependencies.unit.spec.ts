import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// Every project declares in its package.json the workspace libraries
// (@gancho/*) its code imports, tests included: Nx's graph, the build order and
// a reader of package.json then tell the truth about what depends on what.
const repoRoot = path.resolve(__dirname, '..', '..');
const rootManifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] };
const skipped = new Set(['node_modules', 'dist', 'coverage', 'results', 'profiles', '.nx']);
const code = /\.(ts|mts|cts|tsx|js|mjs|cjs)$/;

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The workspace projects, from the root package.json's patterns (`dir/*` or a path). */
function projectDirs(): string[] {
  return rootManifest.workspaces.flatMap((pattern) => {
    const dirs = pattern.endsWith('/*') ? readdirSync(path.join(repoRoot, pattern.slice(0, -2))).map((d) => path.join(pattern.slice(0, -2), d)) : [pattern];
    return dirs.filter((d) => statSync(path.join(repoRoot, d), { throwIfNoEntry: false })?.isFile() === false && statSync(path.join(repoRoot, d, 'package.json'), { throwIfNoEntry: false })?.isFile());
  });
}

/** Code files of a project, leaving out the projects nested in it (tools/bench in tools). */
function codeFiles(dir: string, nested: ReadonlySet<string>): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return skipped.has(entry.name) || nested.has(relative) ? [] : codeFiles(relative, nested);
    return code.test(entry.name) ? [relative] : [];
  });
}

/** The @gancho libraries a project's code imports (itself left out), each with the files that import it. */
function importsOf(dir: string, projects: readonly string[]): Map<string, string[]> {
  const nested = new Set(projects.filter((p) => p !== dir && p.startsWith(`${dir}/`)));
  const imports = new Map<string, string[]>();
  for (const file of codeFiles(dir, nested)) {
    // TypeScript's own scan: imports, exports from, import() and require(), not look-alikes inside strings.
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(repoRoot, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      const name = /^@gancho\/[^/]+/.exec(fileName)?.[0];
      if (!name) continue;
      const files = imports.get(name) ?? [];
      if (!files.includes(file)) imports.set(name, [...files, file]);
    }
  }
  imports.delete(manifestOf(dir).name);
  return imports;
}

function manifestOf(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(repoRoot, dir, 'package.json'), 'utf8')) as Manifest;
}

/** What a project imports and does not declare, by library: the files that import it. */
function undeclaredImports(dir: string, projects: readonly string[]): Record<string, string[]> {
  const manifest = manifestOf(dir);
  const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies }));
  return Object.fromEntries([...importsOf(dir, projects)].filter(([name]) => !declared.has(name)));
}

describe('declared dependencies', () => {
  const projects = projectDirs();

  it('finds the projects and what their code and tests import, nested projects apart', () => {
    expect(projects).toEqual(expect.arrayContaining(['apps/delivery', 'libs/messaging', 'tools', 'tools/bench']));
    const delivery = importsOf('apps/delivery', projects);
    expect(delivery.get('@gancho/delivery-domain')).toContain('apps/delivery/src/destinations/webhook/webhook-destination.ts');
    expect(delivery.get('@gancho/testing')).toContain('apps/delivery/src/delivery.int.spec.ts');
    const tools = importsOf('tools', projects);
    expect([...tools.values()].flat().filter((file) => file.startsWith('tools/bench/'))).toEqual([]);
    // The boundary test's probes are code inside strings, not imports of tools.
    expect(tools.get('@gancho/messaging')).toBeUndefined();
  });

  it.each(projects)('%s declares every @gancho library it imports', (dir) => {
    expect(undeclaredImports(dir, projects)).toEqual({});
  });
});
