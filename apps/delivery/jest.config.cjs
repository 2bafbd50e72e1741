// The receiver SDK (@gancho/webhooks), which tests verify webhooks with, imports its sources with `.js` (its ESM build needs it).
module.exports = require('../../jest.preset.cjs')(__dirname, { moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' } });
