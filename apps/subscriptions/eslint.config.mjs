// The workspace's rules, plus one for this app: its `domain/` folders (the
// deciders) stay plain TypeScript, as the domain libraries do.
import workspace, { bannedInDomain } from '../../eslint.config.mjs';

export default [
  ...workspace,
  {
    files: ['src/**/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: bannedInDomain, message: 'Domain code stays free of frameworks and drivers.' },
            { group: ['node:*'], message: 'Domain code is pure: time and randomness come in with the command.' },
            { group: ['../*'], message: 'Domain code depends only on itself and @gancho/contracts.' },
            { group: ['@gancho/*', '!@gancho/contracts'], message: 'Domain code depends only on itself and @gancho/contracts.' },
          ],
        },
      ],
    },
  },
];
