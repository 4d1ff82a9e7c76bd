import { mkdir } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
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
import { bodyLimit } from 'hono/body-limit';
import { createAuthApp } from './auth/app.ts';
import { dashboardApp } from './dashboard.ts';
import {
  ensureDemoKeys,
  ensureDemoOperator,
  loadLocalSecret,
  type DemoKey,
  type DemoOperator,
} from './demo.ts';
import { createJwtKit, type JwtKit } from './jwt.ts';
import { LEASE_SWEEP_MS, startLeaseSweeper } from './lease-sweeper.ts';
import { SCHEDULE_TICK_MS, startScheduleTicker } from './schedule-ticker.ts';
import { attachRealtime, type RealtimeServer } from './realtime/server.ts';
import { createRestApp } from './rest/app.ts';

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
  /** The built OmniDash (Vite's dist) served at `/`; `/` lists the endpoints without it. */
  dashboardDir?: string;
  /** The demo admin's password; derived from the local secret when absent. */
  adminPassword?: string;
  /** How often expired leases are reclaimed in the background (pg_cron's job in production). */
  leaseSweepMs?: number;
  /** How often due schedules are fired (pg_cron calling the omnilink-scheduler function in production). */
  scheduleTickMs?: number;
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
  /** supabase-js's key for browsers (role anon). */
  anonKey: string;
  /** Bypasses RLS: for trusted servers only. */
  serviceRoleKey: string;
  /** The keys that sign and verify this stack's JWTs (the project's JWT secret). */
  jwt: JwtKit;
  /** The demo tenant's admin login for OmniDash. */
  operator: DemoOperator;
  /** Whether long polls are woken by LISTEN/NOTIFY (else they poll). */
  notificationsWork: boolean;
  /** /realtime/v1/websocket; `streaming` is false when the database cannot replicate logically. */
  realtime: RealtimeServer;
  stop(): Promise<void>;
}

/** A sign-in is a few hundred bytes. */
const AUTH_BODY_BYTES = 64 * 1024;
/** Generous for dashboard writes, and still a bound on what one request can make the stack hold. */
const REST_BODY_BYTES = 8 * 1024 * 1024;

function requestBodyLimit(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: (c) =>
      c.json({ message: `The request body is larger than ${maxSize / 1024} KiB.` }, 413),
  });
}

/** Without a logger given, problems go to stderr; the per-request info lines are dropped. */
const problemsToStderr: PortLogger = (entry) => {
  if (entry.level !== 'info') console.error(JSON.stringify(entry));
};

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

    // The sweeper and the schedule ticker each hold one connection at most.
    const admin = connectDatabase(databaseUrl, { max: 2, applicationName: 'omnihub-dev' });
    cleanups.push(() => admin.end({ timeout: 2 }));
    await migrateDatabase(admin, { seed: true });
    const localSecret = await loadLocalSecret(options.dataDir);
    const demoKeys = await ensureDemoKeys(admin, localSecret);
    const operator = await ensureDemoOperator(admin, localSecret, options.adminPassword);
    const jwt = await createJwtKit(localSecret);

    const log = options.log ?? problemsToStderr;
    const sweeper = startLeaseSweeper(admin, options.leaseSweepMs ?? LEASE_SWEEP_MS, log);
    cleanups.push(() => sweeper.stop());
    const ticker = startScheduleTicker(admin, options.scheduleTickMs ?? SCHEDULE_TICK_MS, log);
    cleanups.push(() => ticker.stop());

    const portSql = connectDatabase(databaseUrl, { max: 10, applicationName: 'omnilink-port' });
    cleanups.push(() => portSql.end({ timeout: 2 }));
    const signals = await TaskSignals.listen(portSql);
    cleanups.push(() => signals.close());
    const portApp = createPortApp({
      sql: portSql,
      env: options.env,
      signals,
      log,
    });

    // Auth, REST and Realtime run as the API roles under RLS: their own pool, apart from the port's.
    const apiSql = connectDatabase(databaseUrl, { max: 10, applicationName: 'omnihub-api' });
    cleanups.push(() => apiSql.end({ timeout: 2 }));

    const root = new Hono();
    // Before anything reads a body: the gateway's cap, not the app's business.
    root.use('/auth/v1/*', requestBodyLimit(AUTH_BODY_BYTES));
    root.use('/rest/v1/*', requestBodyLimit(REST_BODY_BYTES));
    root.mount('/auth/v1', createAuthApp({ sql: apiSql, jwt, log }).fetch);
    root.mount('/rest/v1', createRestApp({ sql: apiSql, jwt, log }).fetch);
    root.mount('/functions/v1', portApp.fetch);
    root.route('/', dashboardApp(options.dashboardDir, { supabaseAnonKey: jwt.anonKey }));
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
    const realtime = await attachRealtime(server, {
      sql: apiSql,
      jwt,
      databaseUrl,
      log: (line) => log({ level: 'warn', msg: line }),
    });
    cleanups.push(() => realtime.close());

    const apiUrl = `http://127.0.0.1:${options.port}`;
    return {
      apiUrl,
      functionsUrl: `${apiUrl}/functions/v1`,
      portUrl: `${apiUrl}/functions/v1/omnilink-port`,
      databaseUrl,
      embedded: postgres !== undefined,
      demoKeys,
      anonKey: jwt.anonKey,
      serviceRoleKey: jwt.serviceRoleKey,
      jwt,
      operator,
      notificationsWork: await signals.verified(),
      realtime,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number) {
  // serve() makes an HTTP/1 server here (no http2 or https options are passed).
  return new Promise<HttpServer>((resolve, reject) => {
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
  });
}
