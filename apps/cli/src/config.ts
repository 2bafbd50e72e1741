import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

/** What `gancho login` stores. */
export interface CliConfig {
  api_key?: string;
  delivery_url?: string;
  subscriptions_url?: string;
}

/** Where `npm start` serves delivery and subscriptions. */
export const defaultDeliveryUrl = 'http://localhost:4003';
export const defaultSubscriptionsUrl = 'http://localhost:4002';

/** What `npm start` wrote to `.gancho/demo.json` that the CLI can use: the demo partner's key and the services' URLs. */
export interface DemoDefaults {
  file: string;
  api_key?: string;
  delivery_url?: string;
  subscriptions_url?: string;
}

/**
 * `.gancho/demo.json` of a running (or last) `npm start`, in `cwd` or the
 * nearest parent that has one; undefined when there is none or it cannot be
 * read as such. Below what `login` saved: a developer logged in elsewhere
 * keeps their choice inside the checkout.
 */
export async function findDemoDefaults(cwd: string): Promise<DemoDefaults | undefined> {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, '.gancho', 'demo.json');
    try {
      const demo = JSON.parse(await readFile(file, 'utf8')) as { apiKey?: unknown; urls?: { delivery?: unknown; subscriptions?: unknown } };
      const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
      const found: DemoDefaults = { file };
      const apiKey = text(demo.apiKey);
      const deliveryUrl = text(demo.urls?.delivery);
      const subscriptionsUrl = text(demo.urls?.subscriptions);
      if (apiKey) found.api_key = apiKey;
      if (deliveryUrl) found.delivery_url = deliveryUrl;
      if (subscriptionsUrl) found.subscriptions_url = subscriptionsUrl;
      return found;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

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
