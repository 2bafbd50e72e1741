'use strict';
// A consumer in a process of its own, for the transport contract's crash test:
// the test SIGKILLs it mid-stream. It builds the adapter from its TypeScript
// source, compiled on require by @swc/core (a workspace devDependency, the
// compiler Jest uses too), so it always runs the code under test: no dist/ to
// build first, and none that can be stale. (Node's own type stripping cannot
// load our sources: parameter properties, extensionless imports.)
//
// Input: GANCHO_CRASH_CONSUMER = JSON { recipe: { modulePath, exportName,
// options }, groupId, topic, handleMs }. Output, one line each on stdout:
// `subscribed`, `started <value>` when a handler starts, `handled <value>` when
// it is about to resolve (before the transport commits it).
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

const { recipe, groupId, topic, handleMs } = JSON.parse(process.env.GANCHO_CRASH_CONSUMER || '{}');
const Transport = require(recipe.modulePath)[recipe.exportName];
const transport = new Transport(recipe.options);
const say = (line) => process.stdout.write(`${line}\n`);

transport
  .subscribe({
    groupId,
    topics: [topic],
    fromBeginning: true,
    handle: async (message) => {
      say(`started ${message.value.toString()}`);
      await new Promise((resolve) => setTimeout(resolve, handleMs));
      say(`handled ${message.value.toString()}`);
    },
  })
  .then(
    () => say('subscribed'),
    (error) => {
      process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
