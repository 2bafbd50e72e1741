import type { INestApplication } from '@nestjs/common';

export interface TestService {
  app: INestApplication;
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a service's root module in-process on a free loopback port, with the
 * given environment (set only while the app is created), as its real `main` would. The app is
 * created after the environment is set, because configuration is read then.
 */
export async function startTestService(createApp: () => Promise<INestApplication>, env: Record<string, string>): Promise<TestService> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  let app: INestApplication;
  try {
    app = await createApp();
    await app.listen(0, '127.0.0.1');
  } finally {
    // Configuration has been read; put the environment back so that several
    // services (or a service and the test's own clients) can coexist.
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, close: () => app.close() };
}
