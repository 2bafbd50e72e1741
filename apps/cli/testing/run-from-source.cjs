// Runs the CLI from its TypeScript sources, for process-level tests:
//   node --conditions=@gancho/source -r apps/cli/testing/run-from-source.cjs apps/cli/src/main.ts …
// Compiles each .ts file with SWC as it is required (as Jest does), and lets
// `./x.js` specifiers (the SDK's, for its ESM build) find `./x.ts`.
'use strict';
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

const swcOptions = {
  jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2023', keepClassNames: true },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...swcOptions, filename });
  module._compile(code, filename);
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveTs(request, ...rest) {
  try {
    return resolve.call(this, request, ...rest);
  } catch (error) {
    if (request.startsWith('.') && request.endsWith('.js')) return resolve.call(this, `${request.slice(0, -3)}.ts`, ...rest);
    throw error;
  }
};
