module.exports = require('../jest.preset.cjs')(__dirname, { testPathIgnorePatterns: ['/node_modules/', '/dist/', '/kafka/', '<rootDir>/deploy/', '<rootDir>/bench/', '<rootDir>/reliability/'] });
