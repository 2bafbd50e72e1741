// helm, kubeconform and hadolint come from tools/deploy/install-tools.sh (the nx `install-tools` target runs it before the tests); the first run on a machine builds them.
module.exports = require('../../jest.preset.cjs')(__dirname, { testTimeout: 120_000 });
