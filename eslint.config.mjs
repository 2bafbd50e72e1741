// One lint configuration for the monorepo. The module-boundaries rule is the
// architecture: domain code stays plain TypeScript, apps never import apps.
import nx from '@nx/eslint-plugin';

/** Frameworks and drivers that must never reach domain code. */
export const bannedInDomain = ['@nestjs/*', 'typeorm', 'pg', 'pg-*', 'kafkajs', 'undici', 'express', '@opentelemetry/*'];

/**
 * The architecture, as lint rules. Production code may not import the testing
 * library; test files may.
 */
function moduleBoundaries({ inTests, allow = [] }) {
  const testing = inTests ? ['type:testing'] : [];
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allow,
      depConstraints: [
        { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', ...testing], bannedExternalImports: bannedInDomain },
        { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', ...testing] },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:testing'] },
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', ...testing] },
        { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:testing'] },
        // Tests that run several services together are the one place that reaches into apps.
        { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:app', 'type:domain', 'type:adapter', 'type:testing'] },
      ],
    },
  ];
}

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '.infra/**', 'reports/**', '.nx/**', '**/coverage/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({ inTests: false }),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Test files, and the test-support folders beside them (never built into dist).
    files: ['**/*.spec.ts', '**/src/testing/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries({ inTests: true }) },
  },
  {
    // Cross-service tests start several apps' modules in one process; apps are
    // not packages anyone imports, so these tests reach their sources by path.
    files: ['tests/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries({ inTests: true, allow: ['../../../apps/**'] }) },
  },
  {
    // Command-line tools talk to their operator on stdout.
    files: ['tools/**/*.mts', 'tools/**/*.cjs'],
    rules: { 'no-console': 'off' },
  },
];
