import { consoleConfig, ConsoleConfigError } from './console.config';
import { startConsoleServer } from './console-server';

async function main(): Promise<void> {
  let config;
  try {
    config = consoleConfig();
  } catch (error) {
    if (error instanceof ConsoleConfigError) {
      process.stderr.write(`console: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const server = await startConsoleServer(config);
  process.stdout.write(`console listening on ${server.url} (subscriptions ${config.subscriptionsUrl}, delivery ${config.deliveryUrl})\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
