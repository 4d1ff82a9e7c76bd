/**
 * A two-minute soak at a steady load: no growth in port memory, no growth in
 * open connections. One port process (scripts/port-server.ts) gets a fixed,
 * realistic mix — events single and batched, task creation, TaskWorkers
 * claiming with long polls and completing (some heartbeat, some fail once
 * and are retried), task reads, stats, refused requests, long polls that
 * time out and long polls the client gives up on — paced by the clock, well
 * below saturation, so what is measured is growth, not overload.
 *
 * Every 2 s: the port's RSS, its open file descriptors (and how many are
 * sockets) and its Postgres connections. After a warm-up, the last window is
 * compared with the first one; after the load, the port's descriptors must
 * fall back to where they started (bar the pool's database connections).
 *
 * SOAK_SECONDS shortens the load for local development (24 at the least, so
 * that each compared window holds three samples); CI runs 120.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { OmniHubConnector, TaskWorker, type TaskHandler } from '@omnihub/connector';
import {
  createTestDatabase,
  issueKey,
  startProcess,
  tsxCommand,
  type IssuedKey,
  type RunningProcess,
  type TestDatabase,
} from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssMiB } from '../scripts/bench/measure.ts';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
/** JIT, pool and heap sizing settle here; not compared. */
const WARM_UP_SECONDS = Math.min(20, SOAK_SECONDS / 6);
/** The two windows compared: right after the warm-up, and the last one. */
const WINDOW_SECONDS = Math.min(30, SOAK_SECONDS / 4);
const SAMPLE_EVERY_MS = 2_000;
const DB_POOL_MAX = 10;
/**
 * RSS may grow by less than both between the two windows. The first 20 s
 * (JIT, the pool filling, V8 sizing its heap: ~100 → ~130 MiB) are not
 * compared; after that, clean runs moved by −1 to +5 MiB, and the bound
 * leaves room for a later heap resize on a busy machine. At ~60 requests/s
 * the windows' middles are ~4,400 requests apart: a leak of 16 KiB per
 * request (a kept body, context or closure) failed both (+67 MiB, ×1.40);
 * 6 KiB (+19 MiB, ×1.13) passed, so the floor is ~8 KiB per request.
 */
const RSS_GROWTH_MAX_RATIO = 1.15;
const RSS_GROWTH_MAX_MIB = 40;
/** Descriptors the last window's median may exceed the first window's maximum by (client connections come and go). */
const FD_SLACK = 5;
/** Requests the load generator lets be in flight at once; beyond that it skips (and counts) rather than piling up. */
const MAX_IN_FLIGHT = 40;

/** Requests per second, per kind (the TaskWorkers' claims and completions come on top: ~2 per task). */
const RATES = {
  event: 20,
  'event batch': 2, // × 25 events
  'create task': 10,
  'get task': 5,
  stats: 1,
  'bad key': 1,
  'bad body': 1,
  'abandoned long poll': 0.5,
} as const;
type Kind = keyof typeof RATES;
const BATCH_SIZE = 25;

const [node, args] = tsxCommand('scripts/port-server.ts');

let db: TestDatabase;
let port: RunningProcess;
let base: string;
let pid: number;

beforeAll(async () => {
  db = await createTestDatabase();
  port = startProcess(node, args, {
    env: {
      DATABASE_URL: db.url,
      PORT: '0',
      PORT_LOG: 'quiet',
      DB_POOL_MAX: String(DB_POOL_MAX),
    },
  });
  const ready = await port.waitFor(/port ready (\S+) pid (\d+)/, 90_000);
  base = ready[1]!;
  pid = Number(ready[2]);
});

afterAll(async () => {
  port?.child.kill('SIGTERM');
  await port?.exited;
  await db?.drop();
});

interface Sample {
  t: number;
  rssMiB: number;
  fds: number;
  sockets: number;
  /** The port's Postgres connections (pool and LISTEN). */
  pg: number;
  inFlight: number;
}

async function sample(t: number, inFlight: number): Promise<Sample> {
  const dir = `/proc/${pid}/fd`;
  const fds = readdirSync(dir);
  const sockets = fds.filter((fd) => {
    try {
      return readlinkSync(`${dir}/${fd}`).startsWith('socket:');
    } catch {
      return false; // closed between the listing and the look
    }
  }).length;
  const [row] = await db.sql`
    select count(*)::int as n from pg_stat_activity
    where application_name = 'omnilink-port' and datname = current_database()`;
  return { t, rssMiB: rssMiB(pid), fds: fds.length, sockets, pg: row!.n, inFlight };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** Outcomes by kind: HTTP status, or the name of what was thrown. */
class Tally {
  readonly counts = new Map<string, Map<string, number>>();
  record(kind: string, outcome: string | number): void {
    const byOutcome = this.counts.get(kind) ?? new Map<string, number>();
    this.counts.set(kind, byOutcome);
    byOutcome.set(String(outcome), (byOutcome.get(String(outcome)) ?? 0) + 1);
  }
  count(kind: string, outcome: string | number): number {
    return this.counts.get(kind)?.get(String(outcome)) ?? 0;
  }
  /** Every outcome of a 5xx status, as "kind status × n". */
  serverErrors(): string[] {
    return [...this.counts].flatMap(([kind, byOutcome]) =>
      [...byOutcome].filter(([o]) => /^5\d\d$/.test(o)).map(([o, n]) => `${kind} ${o} × ${n}`),
    );
  }
  render(): string {
    return [...this.counts]
      .map(
        ([kind, byOutcome]) => `${kind}: ${[...byOutcome].map(([o, n]) => `${o}×${n}`).join(' ')}`,
      )
      .join('\n');
  }
}

async function send(
  method: 'GET' | 'POST',
  path: string,
  apiKey: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** The path with ids replaced, so a tally groups by endpoint. */
const endpoint = (url: string) =>
  new URL(url).pathname.replace(/^\/omnilink-port/, '').replace(/[0-9a-f-]{36}/g, '{id}');

describe('soak', () => {
  it(
    `holds steady for ${SOAK_SECONDS} s: no growth in RSS, descriptors or database connections`,
    async () => {
      const producer = await issueKey(db.sql, {
        tenant: 'acme',
        source: 'lead-gen',
        scopes: ['events:write', 'tasks:create'],
      });
      const runner = await issueKey(db.sql, {
        tenant: 'acme',
        source: 'apex-sales',
        scopes: ['tasks:claim', 'tasks:complete'],
      });
      // A source nobody creates tasks for: its long polls always run out.
      const idle = await issueKey(db.sql, {
        tenant: 'acme',
        source: 'idle-agent',
        scopes: ['tasks:claim', 'tasks:complete'],
      });

      const tally = new Tally();
      const workerLog: string[] = [];
      const keep = (id: string) => (line: string) => workerLog.push(`${id}: ${line}`);
      const connector = (key: IssuedKey, workerId: string) =>
        new OmniHubConnector({
          baseUrl: base.replace(/\/omnilink-port$/, ''),
          apiKey: key.apiKey,
          workerId,
          env: {},
          log: keep(workerId),
          fetch: async (input, init) => {
            const response = await fetch(input, init);
            tally.record(
              `worker ${init?.method ?? 'GET'} ${endpoint(String(input))}`,
              response.status,
            );
            return response;
          },
        });
      // Most tasks succeed at once; every 5th reports progress first; every
      // 20th fails its first attempt and comes back after the retry backoff.
      const work: TaskHandler = async (task, context) => {
        const n = (task.params.payload as { n: number }).n;
        if (n % 5 === 0) await context.heartbeat({ pct: 50 });
        if (n % 20 === 0 && task.attempts === 1) throw new Error('first attempt fails');
        return { n };
      };
      const workers = [
        ...['runner-1', 'runner-2'].map(
          (id) =>
            new TaskWorker(
              connector(runner, id),
              { work },
              { concurrency: 4, waitMs: 5_000, leaseSeconds: 60, log: keep(id) },
            ),
        ),
        new TaskWorker(connector(idle, 'idle-1'), {}, { waitMs: 4_000, log: keep('idle-1') }),
      ];

      const before = await sample(0, 0);
      const samples: Sample[] = [];
      const recentTaskIds: string[] = [];
      let created = 0;
      let skipped = 0;
      const inFlight = new Set<Promise<void>>();

      const operations: Record<Kind, (i: number) => Promise<string | number>> = {
        event: async (i) =>
          (
            await send('POST', '/events', producer.apiKey, {
              type: 'soak.single',
              idempotency_key: `single-${i}`,
              data: { i, note: 'x'.repeat(200) },
            })
          ).status,
        'event batch': async (i) =>
          (
            await send('POST', '/events', producer.apiKey, {
              events: Array.from({ length: BATCH_SIZE }, (_, j) => ({
                type: 'soak.batch',
                idempotency_key: `batch-${i}-${j}`,
                data: { i, j },
              })),
            })
          ).status,
        'create task': async () => {
          const n = created++;
          const reply = await send('POST', '/tasks', producer.apiKey, {
            target: 'apex-sales',
            action: 'work',
            payload: { n },
          });
          if (reply.status === 201) {
            recentTaskIds.push(reply.json.task.id);
            if (recentTaskIds.length > 200) recentTaskIds.shift();
          }
          return reply.status;
        },
        'get task': async (i) => {
          const id = recentTaskIds[i % Math.max(1, recentTaskIds.length)];
          if (!id) return 'no task yet';
          return (await send('GET', `/tasks/${id}`, producer.apiKey)).status;
        },
        stats: async () => (await send('GET', '/stats', runner.apiKey)).status,
        'bad key': async () =>
          (await send('GET', '/stats', `omni.nosuchkey.${'x'.repeat(43)}`)).status,
        'bad body': async () =>
          (
            await send('POST', '/tasks', producer.apiKey, {
              target: 'apex-sales',
              action: 'work',
              priority: 99,
            })
          ).status,
        // A client that hangs up on its long poll: the port must let go of it.
        'abandoned long poll': async () => {
          const hangUp = new AbortController();
          const timer = setTimeout(() => hangUp.abort(), 300);
          try {
            const reply = await send(
              'POST',
              '/tasks/claim',
              idle.apiKey,
              { worker_id: 'impatient', wait_ms: 20_000 },
              hangUp.signal,
            );
            return reply.status;
          } catch (error) {
            return (error as Error).name;
          } finally {
            clearTimeout(timer);
          }
        },
      };
      const expected: Record<Kind, string | number> = {
        event: 201,
        'event batch': 200,
        'create task': 201,
        'get task': 200,
        stats: 200,
        'bad key': 401,
        'bad body': 400,
        'abandoned long poll': 'AbortError',
      };

      const running = workers.map((worker) => worker.run());
      const launched = Object.fromEntries(Object.keys(RATES).map((k) => [k, 0])) as Record<
        Kind,
        number
      >;
      const started = performance.now();
      const elapsed = () => (performance.now() - started) / 1000;
      // Paced by the clock: each kind is due rate × elapsed times so far, however late a tick fires.
      const pacer = setInterval(() => {
        const now = elapsed();
        for (const kind of Object.keys(RATES) as Kind[]) {
          while (launched[kind] < Math.floor(RATES[kind] * now)) {
            const i = launched[kind]++;
            if (inFlight.size >= MAX_IN_FLIGHT) {
              skipped++;
              continue;
            }
            const op: Promise<void> = operations[kind](i)
              .catch((error: Error) => error.message)
              .then((outcome) => tally.record(kind, outcome))
              .finally(() => inFlight.delete(op));
            inFlight.add(op);
          }
        }
      }, 50);
      let sampling: Promise<void> = Promise.resolve();
      const sampler = setInterval(() => {
        sampling = sampling.then(async () => {
          samples.push(await sample(elapsed(), inFlight.size));
        });
      }, SAMPLE_EVERY_MS);

      try {
        await new Promise<void>((resolve) => setTimeout(resolve, SOAK_SECONDS * 1000));
      } finally {
        clearInterval(pacer);
        clearInterval(sampler);
        await sampling;
        await Promise.all(inFlight);
      }
      const loadSeconds = elapsed();

      // Every task created was worked off, retries included, before the workers stop.
      try {
        await expect
          .poll(
            async () =>
              (
                await db.sql`select count(*)::int as n from tasks
                             where target = 'apex-sales' and status <> 'succeeded'`
              )[0]!.n,
            { timeout: 60_000, interval: 500 },
          )
          .toBe(0);
      } finally {
        for (const worker of workers) worker.stop();
        await Promise.all(running);
      }

      // With the load gone, the client connections close (keep-alive ends
      // after ~5 s idle): what stays open beyond the start is the pool's
      // database connections, opened on demand and kept. Anything else is a
      // leaked socket, timer handle or file.
      const beyondDatabase = (s: Sample) => s.fds - s.pg;
      let after = before;
      await expect
        .poll(
          async () => {
            after = await sample(elapsed(), 0);
            return beyondDatabase(after);
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBeLessThanOrEqual(beyondDatabase(before))
        .catch(() => {}); // judged below, after the table

      // The table, before any verdict, so a failing run shows it too.
      const row = (s: Sample) =>
        `${s.t.toFixed(0).padStart(5)} ${s.rssMiB.toFixed(1).padStart(7)} ${String(s.fds).padStart(5)} ${String(s.sockets).padStart(7)} ${String(s.pg).padStart(4)} ${String(s.inFlight).padStart(9)}`;
      const early = samples.filter(
        (s) => s.t >= WARM_UP_SECONDS && s.t < WARM_UP_SECONDS + WINDOW_SECONDS,
      );
      const late = samples.filter((s) => s.t > loadSeconds - WINDOW_SECONDS);
      const summary = (label: string, window: Sample[]) =>
        `${label}: RSS mean ${mean(window.map((s) => s.rssMiB)).toFixed(1)} MiB, fds max ${Math.max(...window.map((s) => s.fds))} median ${median(window.map((s) => s.fds))}, pg max ${Math.max(...window.map((s) => s.pg))}`;
      const counts = (Object.keys(RATES) as Kind[])
        .map((kind) => `${kind} ${tally.count(kind, expected[kind])}`)
        .join(', ');
      console.log(
        [
          `soak: ${loadSeconds.toFixed(0)} s, port pid ${pid}, DB_POOL_MAX ${DB_POOL_MAX}; ${skipped} requests skipped (in flight ≥ ${MAX_IN_FLIGHT})`,
          `    t  RSSMiB   fds sockets   pg  in-flight`,
          `${'start'.padStart(5)}${row(before).slice(5)}`,
          ...samples.map(row),
          `${'after'.padStart(5)}${row(after).slice(5)}`,
          summary(
            `window ${WARM_UP_SECONDS.toFixed(0)}–${(WARM_UP_SECONDS + WINDOW_SECONDS).toFixed(0)} s`,
            early,
          ),
          summary(`last ${WINDOW_SECONDS.toFixed(0)} s`, late),
          `done: ${counts}; tasks created ${created}, events ${tally.count('event', 201) + BATCH_SIZE * tally.count('event batch', 200)}`,
          tally.render(),
        ].join('\n'),
      );

      // The load ran as scheduled: every request answered as it should, nothing failed on the server.
      expect(tally.serverErrors()).toEqual([]);
      expect(port.output()).not.toMatch(/"level":"error"/);
      // Retries (connector) and failed claims, completions or heartbeats (TaskWorker).
      expect(
        workerLog.filter((line) =>
          /retrying in|claim failed|could not|heartbeat for|refused/.test(line),
        ),
      ).toEqual([]);
      for (const kind of Object.keys(RATES) as Kind[]) {
        const other = [...(tally.counts.get(kind) ?? new Map<string, number>())].filter(
          ([outcome]) => outcome !== String(expected[kind]) && outcome !== 'no task yet',
        );
        expect(other, `${kind}: unexpected outcomes`).toEqual([]);
        // At least a third of the nominal load, however slow the machine.
        expect(tally.count(kind, expected[kind]), kind).toBeGreaterThanOrEqual(
          Math.floor((RATES[kind] * loadSeconds) / 3),
        );
      }
      expect(
        tally.count('worker POST /tasks/{id}/complete', 200) +
          tally.count('worker POST /tasks/complete', 200),
      ).toBeGreaterThan(0);
      expect(tally.count('worker POST /tasks/{id}/heartbeat', 200)).toBeGreaterThan(0);
      expect(early.length, 'samples in the first window').toBeGreaterThanOrEqual(3);
      expect(late.length, 'samples in the last window').toBeGreaterThanOrEqual(3);

      // Growth: soft, so a failing run reports every measure that grew.
      const rssEarly = mean(early.map((s) => s.rssMiB));
      const rssLate = mean(late.map((s) => s.rssMiB));
      expect.soft(rssLate / rssEarly, 'RSS growth ratio').toBeLessThan(RSS_GROWTH_MAX_RATIO);
      expect.soft(rssLate - rssEarly, 'RSS growth MiB').toBeLessThan(RSS_GROWTH_MAX_MIB);
      // postgres.js keeps a connection once opened, so the count can only
      // climb to the pool's size (+1 for LISTEN); above it is a connection
      // outside the pool, a leak.
      expect
        .soft(Math.max(...samples.map((s) => s.pg)), 'Postgres connections')
        .toBeLessThanOrEqual(DB_POOL_MAX + 1);
      expect
        .soft(median(late.map((s) => s.fds)), 'descriptors, last window')
        .toBeLessThanOrEqual(Math.max(...early.map((s) => s.fds)) + FD_SLACK);
      expect
        .soft(beyondDatabase(after), 'descriptors other than database connections, after the load')
        .toBeLessThanOrEqual(beyondDatabase(before));
    },
    (SOAK_SECONDS + 150) * 1000,
  );
});
