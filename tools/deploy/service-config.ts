// Each service's own configuration schema, read from its build, so that the
// deploy files are checked against what the service really requires (the
// same parse it runs at start). The test target depends on the apps' builds.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseServiceConfig } from '@gancho/service-kit';
import type { z } from 'zod';
import { repoRoot, type AppName } from './deploy-paths';

const configModules: Record<AppName, { file: string; exportName: string; defaultPort: number }> = {
  journey: { file: 'journey.config.js', exportName: 'journeyConfigSchema', defaultPort: 3001 },
  subscriptions: { file: 'subscriptions.config.js', exportName: 'subscriptionsConfigSchema', defaultPort: 3002 },
  delivery: { file: 'delivery.config.js', exportName: 'deliveryConfigSchema', defaultPort: 3003 },
};

const requireBuilt = createRequire(join(repoRoot, 'package.json'));

/** Parses an environment exactly as the service does at start; throws naming every bad or missing key. */
export function parseAsService(app: AppName, env: Record<string, string>): Record<string, unknown> {
  const { file, exportName, defaultPort } = configModules[app];
  const module = requireBuilt(join(repoRoot, 'apps', app, 'dist', file)) as Record<string, z.ZodObject>;
  const schema = module[exportName];
  if (!schema) throw new Error(`apps/${app}/dist/${file} exports no ${exportName}`);
  return parseServiceConfig(env, { PORT: defaultPort }, schema);
}
