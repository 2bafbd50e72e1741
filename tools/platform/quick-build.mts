// The build `npm start` runs: the three services, the libraries they use and
// the console, transpiled file by file with SWC (decorator metadata included,
// which NestJS's dependency injection and TypeORM read) into the same dist/
// folders the Nx build (tsc) writes, so `node apps/<app>/dist/main.js` runs
// either way. Type checking is not skipped, it is elsewhere: `npm test` (and
// CI) runs every project's typecheck and lint; this build only turns
// TypeScript into JavaScript, which tsc took ~30 s to do and SWC does in
// well under a second. Declarations (.d.ts) are tsc's job (`npm run build`);
// nothing at run time reads them.
//
// A project is rebuilt only when one of its inputs changed: a SHA-256 over
// its source files, its package.json and tsconfigs and this build's options,
// kept in dist/.quick-build-hash. Checking all of them takes milliseconds.
import { transform, version as swcVersion, type Options } from '@swc/core';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, globSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';

/** What tsconfig.base.json asks of tsc, said to SWC (the same options the Jest preset uses, with source maps in files). */
const swcOptions: Options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
    keepClassNames: true,
  },
  // tsc (module nodenext, CommonJS packages) keeps `import()` a real dynamic import; so does this.
  module: { type: 'commonjs', ignoreDynamic: true },
  sourceMaps: true,
};
const hashFile = '.quick-build-hash';

interface TranspiledProject {
  kind: 'swc';
  name: string;
  dir: string;
  /** Relative to dir: the TypeScript sources (tsconfig.build.json's include and exclude) and where they go. */
  rootDir: string;
  outDir: string;
  sources: string[];
  /** Copied into outDir after the transpile (the console's container entry). */
  extraInputs: string[];
}

interface ViteProject {
  kind: 'vite';
  name: string;
  dir: string;
  outDir: string;
  sources: string[];
  extraInputs: string[];
}

type Project = TranspiledProject | ViteProject;

export interface QuickBuildResult {
  built: string[];
  upToDate: string[];
  tookMs: number;
}

function readJson(file: string): { [key: string]: unknown } {
  return JSON.parse(readFileSync(file, 'utf8')) as { [key: string]: unknown };
}

function projectDirOf(packageName: string): string {
  return realpathSync(path.join(repoRoot, 'node_modules', packageName));
}

/** The app and every @gancho/* package it depends on, transitively. */
function withDependencies(appDirs: string[]): string[] {
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const manifest = readJson(path.join(dir, 'package.json'));
    const dependencies = Object.keys((manifest.dependencies ?? {}) as Record<string, string>).filter((name) => name.startsWith('@gancho/'));
    for (const name of dependencies) visit(projectDirOf(name));
  };
  for (const dir of appDirs) visit(dir);
  return [...seen];
}

function tsProject(dir: string, name: string): TranspiledProject {
  const tsconfig = readJson(path.join(dir, 'tsconfig.build.json')) as {
    compilerOptions: { rootDir: string; outDir: string };
    include: string[];
    exclude?: string[];
  };
  const sources = tsconfig.include
    .flatMap((pattern) => globSync(pattern, { cwd: dir, exclude: tsconfig.exclude ?? [] }))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .sort();
  return { kind: 'swc', name, dir, rootDir: tsconfig.compilerOptions.rootDir, outDir: tsconfig.compilerOptions.outDir, sources, extraInputs: [] };
}

/** The services and the console, and the libraries they use. */
export function quickBuildProjects(): Project[] {
  const services = ['journey', 'subscriptions', 'delivery'].map((app) => path.join(repoRoot, 'apps', app));
  const projects: Project[] = withDependencies(services).map((dir) => tsProject(dir, readJson(path.join(dir, 'package.json')).name as string));
  const consoleDir = path.join(repoRoot, 'apps', 'console');
  projects.push({ ...tsProject(consoleDir, '@gancho/console (server)'), extraInputs: ['image-entry.cjs'] });
  projects.push({
    kind: 'vite',
    name: '@gancho/console (page)',
    dir: consoleDir,
    outDir: 'dist/public',
    sources: globSync('src/**/*', { cwd: consoleDir, exclude: ['src/server/**', 'src/**/*.spec.ts'] })
      .filter((file) => /\.(tsx?|css|json|svg|png)$/.test(file))
      .sort(),
    extraInputs: ['index.html', 'vite.config.mts', 'tsconfig.client.json'],
  });
  return projects;
}

function inputHash(project: Project): string {
  const hash = createHash('sha256');
  hash.update(`swc ${swcVersion}\n${JSON.stringify(swcOptions)}\n${project.kind}\n`);
  const configs = ['package.json', 'tsconfig.build.json'].filter((file) => existsSync(path.join(project.dir, file)));
  for (const file of [...configs, ...project.extraInputs, ...project.sources]) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(project.dir, file)));
    hash.update('\0');
  }
  hash.update(readFileSync(path.join(repoRoot, 'tsconfig.base.json')));
  // The page bundles its dependencies (React…): another version of one is another page.
  if (project.kind === 'vite') hash.update(readFileSync(path.join(repoRoot, 'package-lock.json')));
  return hash.digest('hex');
}

function stampPath(project: Project): string {
  return path.join(project.dir, project.outDir, hashFile);
}

async function transpile(project: TranspiledProject): Promise<void> {
  const outDir = path.join(project.dir, project.outDir);
  // A clean folder: a deleted source leaves no stale module behind.
  rmSync(outDir, { recursive: true, force: true });
  await Promise.all(
    project.sources.map(async (source) => {
      const file = path.join(project.dir, source);
      const relative = path.relative(path.join(project.dir, project.rootDir), file);
      const target = path.join(outDir, relative.replace(/\.ts$/, '.js'));
      const output = await transform(readFileSync(file, 'utf8'), { ...swcOptions, filename: file, sourceFileName: path.relative(path.dirname(target), file) });
      mkdirSync(path.dirname(target), { recursive: true });
      await Promise.all([writeFile(target, `${output.code}\n//# sourceMappingURL=${path.basename(target)}.map\n`), output.map ? writeFile(`${target}.map`, output.map) : Promise.resolve()]);
    }),
  );
  if (project.extraInputs.includes('image-entry.cjs')) {
    writeFileSync(path.join(project.dir, 'dist', 'main.js'), readFileSync(path.join(project.dir, 'image-entry.cjs')));
  }
}

function viteBuild(project: ViteProject): Promise<void> {
  const vite = path.join(project.dir, 'node_modules', 'vite', 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--config', 'vite.config.mts', '--logLevel', 'warn'], { cwd: project.dir, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}`))));
  });
}

/** Builds what changed since the last quick build (all of it the first time), in parallel. */
export async function quickBuild(projects = quickBuildProjects()): Promise<QuickBuildResult> {
  const began = Date.now();
  const result: QuickBuildResult = { built: [], upToDate: [], tookMs: 0 };
  await Promise.all(
    projects.map(async (project) => {
      const hash = inputHash(project);
      const stamp = stampPath(project);
      if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) {
        result.upToDate.push(project.name);
        return;
      }
      rmSync(stamp, { force: true });
      if (project.kind === 'vite') await viteBuild(project);
      else await transpile(project);
      writeFileSync(stamp, hash);
      result.built.push(project.name);
    }),
  );
  result.tookMs = Date.now() - began;
  return result;
}
