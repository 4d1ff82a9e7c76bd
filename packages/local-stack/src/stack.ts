import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import {
  connectDatabase,
  migrateDatabase,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from '@omnihub/database';
import { createPortApp, TaskSignals, type PortLogger } from '@omnihub/port';
import { Hono } from 'hono';
import { ensureDemoKeys, type DemoKey } from './demo.ts';

export interface LocalStackOptions {
  /** Where the embedded cluster, its log and the local secret live. */
  dataDir: string;
  /** The one HTTP port, like the Supabase CLI's API port. */
  port: number;
  /** Use this Postgres instead of the embedded one. */
  databaseUrl?: string;
  /** Port of the embedded Postgres; defaults to `port + 1` (the Supabase CLI's layout). */
  databasePort?: number;
  /** The port's environment (OMNILINK_ENABLED). */
  env?: Record<string, string | undefined>;
  log?: PortLogger;
}

export interface LocalStack {
  /** e.g. http://127.0.0.1:54321 */
  apiUrl: string;
  /** OMNIHUB_BASE_URL for agents: the functions URL. */
  functionsUrl: string;
  portUrl: string;
  databaseUrl: string;
  embedded: boolean;
  demoKeys: DemoKey[];
  /** Whether long polls are woken by LISTEN/NOTIFY (else they poll). */
  notificationsWork: boolean;
  stop(): Promise<void>;
}

const quiet: PortLogger = () => {};

/**
 * Starts everything `pnpm dev` serves: Postgres (embedded unless a URL is
 * given) with the platform shim, the migrations and the seed applied, the
 * demo keys, and the OmniLink Port under /functions/v1 on 127.0.0.1.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  await mkdir(options.dataDir, { recursive: true });
  let postgres: EmbeddedPostgresHandle | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  };

  try {
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      postgres = await startEmbeddedPostgres({
        dataDir: options.dataDir,
        port: options.databasePort ?? options.port + 1,
      });
      cleanups.push(() => postgres!.stop());
      databaseUrl = postgres.url;
    }

    const admin = connectDatabase(databaseUrl, { max: 1, applicationName: 'omnihub-dev' });
    cleanups.push(() => admin.end({ timeout: 2 }));
    await migrateDatabase(admin, { seed: true });
    const demoKeys = await ensureDemoKeys(admin, options.dataDir);

    const portSql = connectDatabase(databaseUrl, { max: 10, applicationName: 'omnilink-port' });
    cleanups.push(() => portSql.end({ timeout: 2 }));
    const signals = await TaskSignals.listen(portSql);
    cleanups.push(() => signals.close());
    const portApp = createPortApp({
      sql: portSql,
      env: options.env,
      signals,
      log: options.log ?? quiet,
    });

    const root = new Hono();
    root.mount('/functions/v1', portApp.fetch);
    root.get('/', (c) =>
      c.json({
        name: 'OmniHub local stack',
        endpoints: {
          port: '/functions/v1/omnilink-port',
          openapi: '/functions/v1/omnilink-port/openapi.json',
        },
      }),
    );
    root.notFound((c) =>
      c.json({ error: 'not_found', message: `Nothing is served at ${c.req.path}.` }, 404),
    );

    const server = await listen(root.fetch, options.port);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Long polls would otherwise hold the close up to 25 s.
          server.closeAllConnections();
        }),
    );

    const apiUrl = `http://127.0.0.1:${options.port}`;
    return {
      apiUrl,
      functionsUrl: `${apiUrl}/functions/v1`,
      portUrl: `${apiUrl}/functions/v1/omnilink-port`,
      databaseUrl,
      embedded: postgres !== undefined,
      demoKeys,
      notificationsWork: await signals.verified(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number) {
  return new Promise<ReturnType<typeof serve> & { closeAllConnections(): void }>(
    (resolve, reject) => {
      const server = serve({ fetch, port, hostname: '127.0.0.1' }, (_info: AddressInfo) =>
        resolve(server as never),
      );
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(
                `Port ${port} is already in use. Stop what uses it, or set OMNIHUB_LOCAL_PORT.`,
              )
            : error,
        ),
      );
    },
  );
}
