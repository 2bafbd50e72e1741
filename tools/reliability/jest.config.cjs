// These suites start real brokers, databases and the three services: give them time.
module.exports = require('../../jest.preset.cjs')(__dirname, { testTimeout: 180_000, maxWorkers: 1 });
