import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { envFile, infraDir } from './paths.mts';

/** KAFKA_LOG_DIRS: the broker's log.dirs, for tests that read its segment files (unknown for a broker given by KAFKA_BROKERS unless set too). */
export type InfraEnv = { DATABASE_URL: string; KAFKA_BROKERS: string; KAFKA_LOG_DIRS?: string };

export async function writeEnvFile(env: InfraEnv): Promise<void> {
  await mkdir(infraDir, { recursive: true });
  await writeFile(envFile, `DATABASE_URL=${env.DATABASE_URL}\nKAFKA_BROKERS=${env.KAFKA_BROKERS}\n${env.KAFKA_LOG_DIRS ? `KAFKA_LOG_DIRS=${env.KAFKA_LOG_DIRS}\n` : ''}`);
}

export async function readEnvFile(): Promise<Partial<InfraEnv>> {
  try {
    const text = await readFile(envFile, 'utf8');
    return Object.fromEntries(
      text
        .split('\n')
        .map((line) => line.match(/^([A-Z_]+)=(.*)$/))
        .filter((m): m is RegExpMatchArray => m !== null)
        .map((m) => [m[1], m[2]]),
    );
  } catch {
    return {};
  }
}
