// The example's test starts journey, subscriptions and delivery as processes (their builds) on the real Kafka.
module.exports = require('../../jest.preset.cjs')(__dirname, { testTimeout: 180_000 });
