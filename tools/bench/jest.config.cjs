// The smoke test starts the whole platform and one short scenario: give it time.
module.exports = require('../../jest.preset.cjs')(__dirname, { testTimeout: 240_000, testPathIgnorePatterns: ['/node_modules/', '/results/', '/profiles/'] });
