// Copied to dist/main.js by the build: the container image runs every app as
// `node dist/main.js` (see the Dockerfile); the console's server is dist/server/main.js.
require('./server/main.js');
