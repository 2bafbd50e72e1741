// Unit tests of the page's plain modules, the server's tests, and the browser tests (*.e2e.spec.ts).
module.exports = require('../../jest.preset.cjs')(__dirname, { testTimeout: 180_000 });
