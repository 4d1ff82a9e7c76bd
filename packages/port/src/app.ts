import { Hono } from 'hono';
import { cors } from 'hono/cors';
import packageJson from '../package.json' with { type: 'json' };
import { parsePortConfig, type PortEnv } from './config.ts';
import type { PortDeps, PortHonoEnv, PortLogger } from './context.ts';
import { createPortDatabase, type Sql } from './db.ts';
import { PortError } from './errors.ts';
import { killSwitch } from './middleware/kill-switch.ts';
import { requestId } from './middleware/request-id.ts';
import { eventRoutes } from './routes/events.ts';
import { metaRoutes } from './routes/meta.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { taskRoutes } from './routes/tasks.ts';
import { TaskSignals } from './task-signals.ts';

/** The function name on Supabase; Edge Functions see paths starting with it. */
export const PORT_BASE_PATH = '/omnilink-port';

export const PORT_VERSION: string = packageJson.version;

export interface PortAppOptions {
  /** A postgres.js client for the OmniHub database. */
  sql: Sql;
  /** Environment (OMNILINK_ENABLED); read once, here. */
  env?: PortEnv;
  /** Wakes long polls; without it they poll every 250 ms. */
  signals?: TaskSignals;
  log?: PortLogger;
}

/** SQLSTATE class 22, "data exception": bad input, e.g. an out-of-range date. */
function isPostgresDataError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('22');
}

/** JSON lines on stdout/stderr: what Supabase's function logs and local terminals both show well. */
export const consoleLogger: PortLogger = (entry) => {
  const line = JSON.stringify({ time: new Date().toISOString(), ...entry });
  if (entry.level === 'error') console.error(line);
  else console.log(line);
};

/**
 * Builds the OmniLink Port. No global state: every app gets its own
 * dependencies, so tests build one per case and the Edge Function one per
 * isolate. Paths are served under /omnilink-port, as on Supabase.
 */
export function createPortApp(options: PortAppOptions) {
  const config = parsePortConfig(options.env ?? {});
  const log = options.log ?? consoleLogger;
  const deps: PortDeps = {
    db: createPortDatabase(options.sql),
    signals: options.signals ?? TaskSignals.polling(),
    log,
    version: PORT_VERSION,
  };

  const app = new Hono<PortHonoEnv>().basePath(PORT_BASE_PATH);

  app.use('*', requestId(log));
  const browserAccess = cors({
    origin: '*',
    allowHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposeHeaders: ['x-request-id', 'retry-after'],
  });
  // Only browsers need CORS headers, and a browser's cross-origin request
  // always carries Origin. Agents send none: hono's cors touches the response
  // before the route makes it, which makes the Node adapter stream every
  // answer instead of writing it at once (a sixth of a small request's CPU).
  app.use('*', (c, next) => (c.req.header('origin') ? browserAccess(c, next) : next()));
  app.use('*', killSwitch(config.enabled));

  app.route('/', metaRoutes(deps));
  app.route('/', eventRoutes(deps));
  app.route('/', taskRoutes(deps));
  app.route('/', metricsRoutes(deps));

  app.notFound(() => {
    throw new PortError('not_found', 'No such endpoint. See GET /omnilink-port/openapi.json.');
  });

  app.onError((error, c) => {
    if (error instanceof PortError) {
      if (error.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer');
      if (error.extras.retry_after_seconds !== undefined) {
        c.header('Retry-After', String(error.extras.retry_after_seconds));
      }
      return c.json(error.toBody(), error.status);
    }
    const requestIdValue = c.get('requestId');
    if (isPostgresDataError(error)) {
      // A value the checks let through but Postgres cannot hold: the caller's
      // input, not our fault, and the failed statement changed nothing.
      log({
        level: 'warn',
        msg: 'database refused a value',
        request_id: requestIdValue,
        error: error.message,
      });
      return c.json(
        new PortError(
          'invalid_request',
          `The request holds a value the database cannot store: ${error.message}.`,
          {
            issues: [{ path: '', message: error.message }],
          },
        ).toBody(),
        400,
      );
    }
    log({
      level: 'error',
      msg: 'unhandled error',
      request_id: requestIdValue,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    const internal = new PortError(
      'internal',
      'Something went wrong on our side; quote the request_id when reporting it.',
      {
        request_id: requestIdValue,
      },
    );
    return c.json(internal.toBody(), internal.status);
  });

  return app;
}

export type PortApp = ReturnType<typeof createPortApp>;
