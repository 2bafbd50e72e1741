// helm and kubeconform are installed on first use (tools/deploy/install-tools.sh): the first run on a fresh machine builds them.
module.exports = require('../../jest.preset.cjs')(__dirname, { testTimeout: 120_000 });
