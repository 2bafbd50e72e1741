// The API path (tools/bench/api/): POST /purchases → webhook verified, on the
// bench's own PostgreSQL and Kafka; the baseline build first, if any, then
// the working tree.
import { execFileSync } from 'node:child_process';
/* eslint-disable @nx/enforce-module-boundaries -- scripts of tools/, not a library */
import { repoRoot } from '../../infra/paths.mts';
/* eslint-enable @nx/enforce-module-boundaries */
import { apiScenarios, runApiPath } from '../api/api-path.mts';
import { startBenchInfra } from '../api/bench-infra.mts';
import type { ScenarioModule } from './scenario.mts';

export const apiPathScenarios: ScenarioModule = {
  stage: 'api',
  names: apiScenarios.map((s) => s.name),
  async run({ wants, baseline, fleet, receiverPids, apiDurations, runId, cleanups, apiResults, say, elapsed }) {
    const selectedApi = apiScenarios.filter((s) => wants(s.name));
    if (selectedApi.length === 0) return;
    const apiInfra = await startBenchInfra(say);
    cleanups.push(() => apiInfra.stop());
    const builds = [
      ...(baseline ? [{ label: 'baseline' as const, root: baseline.root, commit: baseline.commit.slice(0, 7) }] : []),
      {
        label: 'current' as const,
        root: repoRoot,
        commit: `${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()}${execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs'], { cwd: repoRoot, encoding: 'utf8' }).trim() ? '+changes' : ''}`,
      },
    ];
    for (const build of builds) {
      apiResults.push(...(await runApiPath({ build, infra: apiInfra, fleet, receiverPids, scenarios: selectedApi, durations: apiDurations, runId, say })));
      say(`bench: API path on ${build.label} done (${elapsed()})`);
    }
  },
};
