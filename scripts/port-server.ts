/**
 * The OmniLink Port as a Node process of its own (what the benchmarks and
 * the reliability suite run, several at once or restarted mid-load):
 *
 *   DATABASE_URL=postgres://… PORT=0 node --import tsx scripts/port-server.ts
 *
 * Serves /omnilink-port on 127.0.0.1 (PORT 0 picks a free port), long polls
 * woken by LISTEN/NOTIFY, and prints one line `port ready <base url> pid <pid>`
 * when it accepts requests. OMNILINK_ENABLED and DB_POOL_MAX are read from the
 * environment; logs are JSON lines (PORT_LOG=quiet keeps only errors).
 * SIGTERM/SIGINT stop it gracefully: no new connections, requests in flight
 * finish (up to 5 s), then the pool closes.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { connectDatabase } from '@omnihub/database';
import { consoleLogger, createPortApp, TaskSignals, type PortLogger } from '@omnihub/port';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL is not set: the port needs the OmniHub database.');
  process.exit(2);
}
const sql = connectDatabase(databaseUrl, {
  max: Number(process.env.DB_POOL_MAX ?? 10),
  applicationName: 'omnilink-port',
});
const log: PortLogger =
  process.env.PORT_LOG === 'quiet'
    ? (entry) => {
        if (entry.level === 'error') consoleLogger(entry);
      }
    : consoleLogger;
const signals = await TaskSignals.listen(sql);
const app = createPortApp({ sql, signals, log, env: process.env });
const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' },
  (info: AddressInfo) => {
    console.log(`port ready http://127.0.0.1:${info.port}/omnilink-port pid ${process.pid}`);
  },
);

/** Requests still running at a stop get this long to finish before the pool closes under them. */
const SHUTDOWN_GRACE_MS = 5_000;

// Stop taking connections, let requests in flight finish (bounded: a long
// poll may wait 25 s), and only then close the pool: ending it first turned
// every request still running into a 500.
const shutdown = () => {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const grace = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
  void Promise.race([closed, grace])
    .then(() => Promise.allSettled([signals.close(), sql.end({ timeout: 2 })]))
    .then(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
