// The broker and database restart suite, run on demand with `npm run test:restarts -w @gancho/reliability`.
// It is out of the default test run because its last clean-clone runs lost
// deliveries after a Kafka broker SIGKILL (an open bug, see docs/reliability.md);
// a suite that fails for a known, unfixed reason would block every other change.
module.exports = require('../../jest.preset.cjs')(__dirname, {
  testTimeout: 180_000,
  maxWorkers: 1,
  testMatch: ['<rootDir>/broker-and-database-restart.restarts.ts'],
});
