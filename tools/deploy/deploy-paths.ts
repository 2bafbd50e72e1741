// Where the deploy checks find the repository's files and their tools.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
export const toolsBin = join(repoRoot, '.tools', 'bin');
export const chartDir = join(repoRoot, 'k8s', 'gancho');
export const apps = ['journey', 'subscriptions', 'delivery'] as const;
export type AppName = (typeof apps)[number];

/**
 * Builds or finds helm, kubeconform and hadolint at their pinned versions
 * (idempotent; slow only the first time on a machine). `nx test` has run it
 * already (the `install-tools` target), outside any test's timeout; a bare
 * `jest` run builds here, saying so on stderr, bounded generously: the
 * first helm build on a machine whose CPU is taken can last many minutes.
 */
export function ensureDeployTools(): { helm: string; kubeconform: string; hadolint: string } {
  execFileSync('bash', [join(__dirname, 'install-tools.sh')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60 * 60_000 });
  return { helm: join(toolsBin, 'helm'), kubeconform: join(toolsBin, 'kubeconform'), hadolint: join(toolsBin, 'hadolint') };
}
