// @gancho/webhooks' sources (which the CLI's import) name each other with `.js`; Jest resolves those to the `.ts` files.
module.exports = require('../../jest.preset.cjs')(__dirname, { moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' } });
