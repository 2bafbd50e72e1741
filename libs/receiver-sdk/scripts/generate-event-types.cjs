// Writes src/generated/event-types.ts from the JSON Schemas of @gancho/contracts
// (its build: run through `npm run generate`, which builds it first).
'use strict';
const { writeFileSync } = require('node:fs');
const path = require('node:path');
const { eventTypes, webhookPayloadSchema } = require('@gancho/contracts');
const { renderEventTypes } = require('./render-event-types.cjs');

const target = path.join(__dirname, '..', 'src', 'generated', 'event-types.ts');
writeFileSync(target, renderEventTypes(eventTypes.map((type) => ({ type, schema: webhookPayloadSchema(type) }))));
process.stdout.write(`wrote ${path.relative(process.cwd(), target)} (${eventTypes.length} event types)\n`);
