// Writes docs/asyncapi.yaml from the topic registry (run after changing a topic contract):
//   node tools/contracts/write-asyncapi.mts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../infra/paths.mts';
import { asyncApiFile, asyncApiYaml } from './asyncapi-yaml.mts';

writeFileSync(asyncApiFile, asyncApiYaml());
console.log(`wrote ${path.relative(repoRoot, asyncApiFile)}`);
