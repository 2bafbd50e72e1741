import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

/** What `gancho login` stores. */
export interface CliConfig {
  api_key?: string;
  delivery_url?: string;
  subscriptions_url?: string;
}

export const defaultDeliveryUrl = 'http://localhost:3003';
export const defaultSubscriptionsUrl = 'http://localhost:3002';

/** `GANCHO_CONFIG`, else the user's config dir: `$XDG_CONFIG_HOME/gancho`, `~/.config/gancho`, or `%APPDATA%\gancho` on Windows. */
export function configPath(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (env['GANCHO_CONFIG']) return path.resolve(env['GANCHO_CONFIG']);
  if (platform === 'win32' && env['APPDATA']) return path.join(env['APPDATA'], 'gancho', 'config.json');
  return path.join(env['XDG_CONFIG_HOME'] || path.join(home, '.config'), 'gancho', 'config.json');
}

export async function loadConfig(file: string): Promise<CliConfig> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as CliConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Writes the config readable by the user only: it holds an API key. */
export async function saveConfig(file: string, config: CliConfig): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
