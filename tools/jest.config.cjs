// The CLI's sources (tools/docs reads its commands) reach @gancho/webhooks' sources, which name each other with `.js`.
module.exports = require('../jest.preset.cjs')(__dirname, {
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/kafka/', '<rootDir>/deploy/', '<rootDir>/bench/', '<rootDir>/reliability/'],
});
