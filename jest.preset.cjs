// Shared Jest configuration. Every project's jest.config.cjs calls this with
// its own directory. SWC transpiles TypeScript (with decorator metadata, which
// NestJS and TypeORM need); type checking is the `typecheck` target's job.
const path = require('node:path');

const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

/** @returns {import('jest').Config} */
module.exports = function jestConfig(projectDir, overrides = {}) {
  const projectName = require(path.join(projectDir, 'package.json')).name;
  return {
    displayName: projectName,
    rootDir: projectDir,
    testEnvironment: 'node',
    // Resolve our libraries to their TypeScript sources, not their builds.
    testEnvironmentOptions: { customExportConditions: ['@gancho/source', 'node', 'node-addons'] },
    transform: { '^.+\\.(t|mt|ct)s$': ['@swc/jest', swcOptions] },
    moduleFileExtensions: ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs', 'json'],
    testMatch: ['<rootDir>/**/*.spec.ts'],
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
    setupFiles: [path.join(__dirname, 'tools/test/load-infra-env.cjs')],
    reporters: ['default', [path.join(__dirname, 'tools/test/summary-reporter.cjs'), { project: projectName }]],
    // Integration tests talk to real servers; two workers suit a two-core box.
    maxWorkers: 2,
    testTimeout: 60_000,
    ...overrides,
  };
};
