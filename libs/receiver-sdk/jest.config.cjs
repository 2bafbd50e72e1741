// Sources import each other with `.js` (the ESM build needs it); Jest resolves those to the `.ts` files.
module.exports = require('../../jest.preset.cjs')(__dirname, { moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' } });
