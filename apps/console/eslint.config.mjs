// The workspace's rules, extended to the page's .tsx files; the page talks to
// its user, not to a console, and runs in the browser.
import workspace from '../../eslint.config.mjs';

const wsRules = workspace.find((block) => block.files?.includes('**/*.ts') && block.rules?.['no-console'])?.rules ?? {};

export default [
  ...workspace,
  {
    files: ['src/client/**/*.tsx', 'src/client/**/*.ts'],
    rules: { ...wsRules, '@nx/enforce-module-boundaries': 'off' },
  },
];
