// What the compatibility gate says about this tree, for a reviewer:
//
//   npm run build && node tools/contracts/check-compatibility.mts [--notes]
//
// the breaks against the last release (each as an acknowledged-breaks.json
// entry to fill in, should the code already cope with it), stale
// acknowledgements, and with --notes what was added. Reads today's builds the
// way record-release.mts reads a release's; the test of record is
// compatibility-gate.e2e.spec.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { envFile, repoRoot } from '../infra/paths.mts';
import { applyAcknowledgements, formatBreak, releaseBreaks, topicSnapshotOf, type ContractSet } from './compatibility.mts';

const { values } = parseArgs({ options: { notes: { type: 'boolean', default: false } } });
if (!process.env['DATABASE_URL']) {
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const match = /^DATABASE_URL=(.*)$/.exec(line);
    if (match) process.env['DATABASE_URL'] = match[1];
  }
}
execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js'), 'run-many', '-t', 'build', '-p', '@gancho/testing', '@gancho/contracts', '--output-style=static'], {
  cwd: repoRoot,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const { lastRelease, openApiDocumentsOfBuild, readAcknowledgedBreaks, readSnapshot, topicContractsOfBuild, webhookSchemasOfBuild } = await import('./release-contracts.mts');

const release = lastRelease();
const current: ContractSet = {
  topics: Object.fromEntries((topicContractsOfBuild(repoRoot) ?? []).map((c) => [c.topic, topicSnapshotOf(c)])),
  webhooks: webhookSchemasOfBuild(repoRoot),
  openapi: await openApiDocumentsOfBuild(repoRoot),
};
const comparison = releaseBreaks(readSnapshot(release.version), current);
const { breaks, stale } = applyAcknowledgements(release.version, comparison.breaks, readAcknowledgedBreaks());
console.log(`against release ${release.version} (${release.commit.slice(0, 7)}): ${breaks.length} breaks, ${stale.length} stale acknowledgements, ${comparison.notes.length} additions`);
for (const b of breaks) console.log(`  ${formatBreak(b)}`);
if (breaks.length > 0) {
  console.log('as acknowledged-breaks.json entries (only where the code already copes; otherwise ship a new version):');
  console.log(
    JSON.stringify(
      breaks.map((b) => ({ release: release.version, rule: b.rule, contract: b.contract, at: b.at, breaks: b.breaks, why: '' })),
      null,
      2,
    ),
  );
}
for (const a of stale) console.log(`  stale: ${a.rule} ${a.contract} ${a.at}`);
if (values.notes) for (const note of comparison.notes) console.log(`  + ${note}`);
process.exitCode = breaks.length > 0 || stale.length > 0 ? 1 : 0;
