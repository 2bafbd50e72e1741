// docs/asyncapi.yaml as text: the registry's AsyncAPI document in YAML, the
// same bytes from the writing script and from the test that checks the file.
import path from 'node:path';
import YAML from 'yaml';
import { asyncApiDocument } from '@gancho/contracts';
import { repoRoot } from '../infra/paths.mts';

export const asyncApiFile = path.join(repoRoot, 'docs', 'asyncapi.yaml');

export function asyncApiYaml(): string {
  const header = '# Generated from libs/contracts/src/topic-contracts.ts by `node tools/contracts/write-asyncapi.mts`; do not edit.\n';
  // A JSON copy first: no object appears twice, so the YAML has no anchors.
  return header + YAML.stringify(JSON.parse(JSON.stringify(asyncApiDocument())));
}
