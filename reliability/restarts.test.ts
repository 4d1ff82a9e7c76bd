import { OmniHubConnector } from '@omnihub/connector';
import { ErrorResponse } from '@omnihub/contracts';
import { issueKey, type IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_SECONDS, RestartLoad } from './support/restart-load.ts';
import {
  RestartablePostgres,
  startPortProcess,
  type PortProcess,
} from './support/restart-servers.ts';

/**
 * Restarts under load: the database, then the port, go away while real
 * connectors send events and create and run tasks through the port. The
 * connectors' retries must carry every call through; afterwards the stored
 * events are exactly the ones sent, and every task ran to success with an
 * attempt history that never overlaps. While the database is down the port
 * itself must stay up and answer each request within a bound with the
 * contract's JSON error, then serve again once the database is back, without
 * a restart.
 *
 * Outages are bounded by events, not durations: the database stays down
 * until the probes are answered, every sending loop has seen a failed
 * attempt, and a worker's long poll has hit the dead database.
 */

/** Calls each sending loop completes before a restart, and again after the recovery. */
const CALLS_BEFORE = 20;
const CALLS_AFTER = 30;
/** A request to a port whose database is down must be answered within this (the connector's own timeout is 30 s). */
const PROBE_TIMEOUT_MS = 10_000;
const RECOVERY_TIMEOUT_MS = 60_000;

let pg: RestartablePostgres;
let port: PortProcess | undefined;

beforeAll(async () => {
  pg = await RestartablePostgres.start();
  port = await startPortProcess(pg.url);
}, 120_000);

afterAll(async () => {
  await port?.kill('SIGKILL');
  await pg?.close();
});

interface Keys {
  main: IssuedKey;
  listen: IssuedKey;
  probe: IssuedKey;
}

/** A tenant per scenario: its counts are its own. */
async function arrangeKeys(label: string): Promise<Keys> {
  const tenant = `restarts-${label}`;
  return {
    main: await issueKey(pg.sql, { tenant, source: `restart-${label}` }),
    listen: await issueKey(pg.sql, { tenant, source: `restart-${label}-listen` }),
    probe: await issueKey(pg.sql, { tenant, source: `restart-${label}-probe` }),
  };
}

interface ProbeAnswer {
  request: string;
  status: number;
  requestId: string | null;
  contentType: string | null;
  text: string;
}

/** One request straight to the port (no connector, no retry), answered within PROBE_TIMEOUT_MS. */
async function probe(
  portUrl: string,
  apiKey: string | undefined,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<ProbeAnswer> {
  const response = await fetch(`${portUrl}${path}`, {
    method,
    headers: {
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  });
  return {
    request: `${method} ${path}`,
    status: response.status,
    requestId: response.headers.get('x-request-id'),
    contentType: response.headers.get('content-type'),
    text: await response.text(),
  };
}

/** Every kind of call that needs the database, with keys unique to `phase`. */
async function probeAll(
  portUrl: string,
  keys: Keys,
  label: string,
  phase: string,
): Promise<ProbeAnswer[]> {
  const key = keys.probe.apiKey;
  const eventKey = `${label}:probe-${phase}`;
  return Promise.all([
    probe(portUrl, key, 'POST', '/events', { type: 'probe', idempotency_key: `${eventKey}:one` }),
    probe(portUrl, key, 'POST', '/events', {
      events: [
        { type: 'probe', idempotency_key: `${eventKey}:batch:0` },
        { type: 'probe', idempotency_key: `${eventKey}:batch:1` },
      ],
    }),
    probe(portUrl, key, 'POST', '/tasks', {
      target: keys.probe.source,
      action: 'probe',
      idempotency_key: `${eventKey}:task`,
    }),
    probe(portUrl, key, 'POST', '/tasks/claim', { worker_id: `${label}-probe`, wait_ms: 0 }),
    probe(portUrl, key, 'POST', '/tasks/claim', { worker_id: `${label}-probe`, wait_ms: 2_000 }),
    probe(portUrl, key, 'GET', `/tasks/${crypto.randomUUID()}`),
    probe(portUrl, key, 'GET', '/whoami'),
    probe(portUrl, key, 'GET', '/stats'),
  ]);
}

/** A stack frame, SQL, or a driver's words: what an error body must not leak. */
const LEAK =
  /(^|\s)at \S+ \(|\bat \S+:\d+:\d+|\.[cm]?[jt]s:\d+|\b(select|insert|update|delete)\b[\s\S]*\b(from|into|set)\b|omnilink\.|ECONNREFUSED|postgres|terminating connection|SQLSTATE/i;

/** The contract's answer while the database is down: 500 internal (or 503), JSON, with the request id. */
function expectCleanServerError(answer: ProbeAnswer): void {
  const where = `${answer.request} → ${answer.status} ${answer.text}`;
  expect([500, 503], where).toContain(answer.status);
  expect(answer.contentType, where).toMatch(/^application\/json/);
  expect(answer.requestId, where).toBeTruthy();
  const body = ErrorResponse.parse(JSON.parse(answer.text));
  if (answer.status === 500) {
    expect(body.error, where).toBe('internal');
    expect(body.request_id, where).toBe(answer.requestId);
  }
  expect(answer.text, where).not.toMatch(LEAK);
  expect(body.message, where).not.toMatch(LEAK);
}

/** The port's LISTEN connections opened since `since` (a database timestamp). */
async function listenConnectionsSince(since: Date): Promise<number> {
  try {
    const [row] = await pg.sql`
      select count(*)::int as n from pg_stat_activity
      where application_name = 'omnilink-port' and query ilike 'listen %' and backend_start >= ${since}`;
    return row!.n as number;
  } catch {
    return 0; // the database is still coming back
  }
}

async function databaseNow(): Promise<Date> {
  const [row] = await pg.sql`select now() as now`;
  return row!.now as Date;
}

/**
 * When the running Postgres started. After a restart every connection is
 * newer than this, including one the port opened before this test's own
 * client had reconnected (taking now() then would miss it).
 */
async function databaseStartedAt(): Promise<Date> {
  const [row] = await pg.sql`select pg_postmaster_start_time() as started`;
  return row!.started as Date;
}

/** Polls `/whoami` until the port answers 200 again. */
async function awaitPortServing(keys: Keys): Promise<void> {
  await expect
    .poll(
      async () => {
        const answer = await probe(port!.url, keys.probe.apiKey, 'GET', '/whoami').catch(
          (error: Error) => ({ status: error.message }),
        );
        return answer.status;
      },
      { timeout: RECOVERY_TIMEOUT_MS, interval: 200 },
    )
    .toBe(200);
}

/** Awaits that each sending loop has completed `count` more calls than in `from`. */
async function awaitProgress(load: RestartLoad, count: number): Promise<void> {
  const from = new Map(load.calls);
  for (const name of load.generators) {
    await expect
      .poll(() => (load.calls.get(name) ?? 0) - (from.get(name) ?? 0), {
        timeout: RECOVERY_TIMEOUT_MS,
        interval: 100,
      })
      .toBeGreaterThanOrEqual(count);
  }
}

interface Outage {
  /** Breaks something, holds it broken, repairs it; resolves once the port serves again. */
  run(context: {
    load: RestartLoad;
    keys: Keys;
    label: string;
    /** Records how long into the scenario a step ended, for the report. */
    mark: (step: string) => void;
  }): Promise<void>;
  /** When the LISTEN connection the port has after the outage was opened, at the earliest. */
  listenSince: Date;
}

/**
 * Load → outage → recovery → more load → drain, then checks what was
 * stored against what the clients sent and were told.
 */
async function runScenario(label: string, outage: Outage): Promise<Record<string, unknown>> {
  const keys = await arrangeKeys(label);
  const load = new RestartLoad({
    label,
    portUrl: port!.url,
    apiKey: keys.main.apiKey,
    source: keys.main.source,
    listen: { apiKey: keys.listen.apiKey, source: keys.listen.source },
  });
  const timings: Record<string, number> = {};
  const started = Date.now();
  const mark = (name: string) => (timings[name] = Date.now() - started);
  try {
    load.start();
    await expect
      .poll(() => load.minCalls(), { timeout: RECOVERY_TIMEOUT_MS, interval: 100 })
      .toBeGreaterThanOrEqual(CALLS_BEFORE);
    // The long-polling worker is running and waits at the port for its next task.
    const warmUp = await load.createListenTask('warm-up');
    await expect
      .poll(() => load.listenHandled.has(warmUp), { timeout: RECOVERY_TIMEOUT_MS })
      .toBe(true);
    await expect
      .poll(() => load.longPollsInFlight(), { timeout: RECOVERY_TIMEOUT_MS, interval: 50 })
      .toBeGreaterThanOrEqual(1);
    mark('outage_start_ms');

    await outage.run({ load, keys, label, mark });
    mark('port_serving_again_ms');

    // A task created now reaches the worker whose long poll spanned the outage.
    const afterRecovery = await load.createListenTask('after-recovery');
    await expect
      .poll(() => load.listenHandled.has(afterRecovery), { timeout: RECOVERY_TIMEOUT_MS })
      .toBe(true);
    mark('task_after_recovery_run_ms');
    // The port listens again (postgres.js reconnects LISTEN with a backoff of its own) …
    await expect
      .poll(() => listenConnectionsSince(outage.listenSince), {
        timeout: RECOVERY_TIMEOUT_MS,
        interval: 200,
      })
      .toBeGreaterThanOrEqual(1);
    mark('listen_reconnected_ms');
    // … and a task created once it does is run too.
    const afterListen = await load.createListenTask('after-listen');
    await expect
      .poll(() => load.listenHandled.has(afterListen), { timeout: RECOVERY_TIMEOUT_MS })
      .toBe(true);
    mark('task_after_listen_run_ms');

    await awaitProgress(load, CALLS_AFTER);
    await load.stopGenerators();
    mark('load_stopped_ms');
    // Tasks whose claim was lost with a dropped connection come back when their lease ends.
    await expect
      .poll(
        async () => {
          const [row] = await pg.sql`
            select count(*)::int as n from public.tasks
            where tenant_id = ${keys.main.tenantId} and target in ${pg.sql([keys.main.source, keys.listen.source])}
              and status not in ('succeeded', 'failed', 'canceled')`;
          return row!.n;
        },
        { timeout: (LEASE_SECONDS + 60) * 1000, interval: 250 },
      )
      .toBe(0);
    mark('tasks_drained_ms');
  } finally {
    // After a failure some calls may still be retrying: cut them short.
    await load.abort();
  }

  await expectLoadConsistent(load, keys);

  // What the port answered while broken was never stored.
  const [probes] = await pg.sql`
    select (select count(*)::int from public.telemetry_events
             where integration_id = ${keys.probe.integrationId} and idempotency_key like ${`${label}:probe-down:%`}) as events,
           (select count(*)::int from public.tasks
             where tenant_id = ${keys.probe.tenantId} and idempotency_key like ${`${label}:probe-down:%`}) as tasks`;
  expect(probes).toEqual({ events: 0, tasks: 0 });

  return { label, timings, ...load.summary() };
}

/** Stored events and tasks against what the clients sent and were told. */
async function expectLoadConsistent(load: RestartLoad, keys: Keys): Promise<void> {
  // No call ran out of retries: every send is one the connector reported as accepted.
  expect(load.gaveUp).toEqual([]);
  expect(load.acceptedEvents.size).toBe(load.triedEvents.size);

  const rows = await pg.sql`
    select idempotency_key, id::text from public.telemetry_events
    where integration_id = ${keys.main.integrationId}`;
  const stored = new Map(rows.map((row) => [row.idempotency_key as string, row.id as string]));
  const missing = [...load.triedEvents].filter((key) => !stored.has(key));
  const extra = [...stored.keys()].filter((key) => !load.triedEvents.has(key));
  expect({
    missing: missing.length,
    someMissing: missing.slice(0, 10),
    extra: extra.length,
    someExtra: extra.slice(0, 10),
  }).toEqual({ missing: 0, someMissing: [], extra: 0, someExtra: [] });
  // One row per key, and it is the row every answer pointed to: a resend was a duplicate.
  expect(rows.length).toBe(stored.size);
  const wrongIds = [...load.acceptedEvents].filter(([key, id]) => stored.get(key) !== id);
  expect(wrongIds.slice(0, 10)).toEqual([]);
  const conflicting = [...load.eventAnswers].filter(
    ([key, answers]) =>
      answers.some((answer) => answer.id !== stored.get(key)) ||
      answers.filter((answer) => answer.status === 'created').length > 1,
  );
  expect(conflicting.slice(0, 10)).toEqual([]);

  // Sending everything again creates nothing and points at the same rows.
  const resender = new OmniHubConnector({
    baseUrl: port!.url,
    apiKey: keys.main.apiKey,
    source: keys.main.source,
    workerId: 'resender',
    env: {},
    log: () => {},
  });
  const sent = [...load.triedEvents];
  const resent = await resender.emitBatch(
    sent.map((key) => ({ type: 'restart_load', idempotency_key: key })),
  );
  expect({ created: resent.created, duplicates: resent.duplicates }).toEqual({
    created: 0,
    duplicates: sent.length,
  });
  expect(
    resent.results.filter((result) => stored.get(result.idempotency_key) !== result.id),
  ).toEqual([]);
  const [after] = await pg.sql`
    select count(*)::int as n from public.telemetry_events where integration_id = ${keys.main.integrationId}`;
  expect(after!.n).toBe(stored.size);

  // Tasks: one per key, each the task its creator was given, each succeeded once.
  const tasks = await pg.sql`
    select t.id::text, t.idempotency_key, t.status, t.attempts,
           coalesce((
             select jsonb_agg(jsonb_build_object(
                      'attempt', a.attempt, 'worker', a.worker_id, 'outcome', a.outcome,
                      'started', a.started_at, 'finished', a.finished_at)
                    order by a.started_at, a.attempt)
             from public.task_attempts a where a.task_id = t.id), '[]'::jsonb) as history
    from public.tasks t
    where t.tenant_id = ${keys.main.tenantId} and t.target = ${keys.main.source}`;
  expect(tasks.length).toBe(load.triedTasks.size);
  expect(load.createdTasks.size).toBe(load.triedTasks.size);
  const wrongTasks = tasks.filter(
    (task) => load.createdTasks.get(task.idempotency_key as string) !== task.id,
  );
  expect(wrongTasks.slice(0, 10)).toEqual([]);
  const runs = new Map<string, number>();
  for (const run of load.handled) runs.set(run.taskId, (runs.get(run.taskId) ?? 0) + 1);
  const inconsistent = tasks
    .map((task) => ({ task, problem: historyProblem(task as unknown as TaskRow, runs) }))
    .filter(({ problem }) => problem !== null)
    .map(({ task, problem }) => ({
      id: task.id,
      status: task.status,
      problem,
      history: task.history,
    }));
  expect(inconsistent.slice(0, 5)).toEqual([]);

  // The long-polling worker's tasks (warm-up, after recovery, after LISTEN) succeeded once each.
  const listenTasks = await pg.sql`
    select status, attempts from public.tasks
    where tenant_id = ${keys.main.tenantId} and target = ${keys.listen.source}`;
  expect(listenTasks.map((task) => `${task.status} ${task.attempts}`)).toEqual([
    'succeeded 1',
    'succeeded 1',
    'succeeded 1',
  ]);

  // Nothing of this tenant is left running or waiting.
  const [left] = await pg.sql`
    select count(*)::int as n from public.tasks
    where tenant_id = ${keys.main.tenantId} and target in ${pg.sql([keys.main.source, keys.listen.source])}
      and status in ('queued', 'running', 'approved')`;
  expect(left!.n).toBe(0);
}

interface TaskRow {
  status: string;
  attempts: number;
  id: string;
  history: { attempt: number; outcome: string | null; started: string; finished: string | null }[];
}

/**
 * Why a task's attempt history is not that of one success after zero or
 * more lost leases, or null when it is: attempts 1..n, one after the other
 * (never two at once), every one closed, only the last succeeded, and the
 * handler ran at least once and at most once per attempt.
 */
function historyProblem(task: TaskRow, runs: Map<string, number>): string | null {
  if (task.status !== 'succeeded') return `status ${task.status}`;
  const { history } = task;
  if (history.length !== task.attempts)
    return `${history.length} attempt rows for attempts = ${task.attempts}`;
  for (const [i, attempt] of history.entries()) {
    if (attempt.attempt !== i + 1) return `attempt ${attempt.attempt} in place ${i + 1}`;
    if (attempt.finished === null) return `attempt ${attempt.attempt} never finished`;
    const last = i === history.length - 1;
    if (attempt.outcome !== (last ? 'succeeded' : 'lease_expired'))
      return `attempt ${attempt.attempt} ended ${attempt.outcome}`;
    const previous = history[i - 1];
    if (previous && Date.parse(attempt.started) < Date.parse(previous.finished!))
      return `attempt ${attempt.attempt} started before attempt ${previous.attempt} ended`;
  }
  const ran = runs.get(task.id) ?? 0;
  if (ran < 1 || ran > task.attempts)
    return `the handler ran ${ran} times in ${task.attempts} attempts`;
  return null;
}

describe('restarts under load', () => {
  it('keeps every event and task through a Postgres restart; the port answers 500 meanwhile and recovers by itself', async () => {
    const pidBefore = port!.pid;
    let downAnswers: ProbeAnswer[] = [];
    let health: ProbeAnswer | undefined;
    /** 5xx answers (or time-outs) to the probes after the database was back. */
    const afterRestart: ProbeAnswer[] = [];
    const outage: Outage = {
      listenSince: new Date(0),
      async run({ load, keys, label, mark }) {
        await pg.stop();
        const downAt = Date.now();
        mark('database_stopped_ms');
        downAnswers = await probeAll(port!.url, keys, label, 'down');
        for (const answer of downAnswers) expectCleanServerError(answer);
        // Liveness does not need the database: the process is up and says so.
        health = await probe(port!.url, undefined, 'GET', '/health');
        expect(health.status).toBe(200);
        mark('probed_while_down_ms');
        // Down long enough to matter: every sender has failed at least once, and
        // the long poll that was waiting has hit the dead database on a re-check.
        for (const name of ['single-a', 'single-b', 'batch', 'listen-worker']) {
          await expect
            .poll(() => load.failedAttempts(downAt, name).length, {
              timeout: RECOVERY_TIMEOUT_MS,
              interval: 50,
            })
            .toBeGreaterThanOrEqual(1);
        }
        expect(port!.alive()).toBe(true);
        mark('senders_failed_ms');
        await pg.start();
        mark('database_started_ms');
        this.listenSince = await databaseStartedAt();
        await awaitPortServing(keys);
        mark('whoami_served_ms');
        // Every kind of call works again, each polled: after the database is
        // back a request can still fail or wait, on a pool connection that is
        // waiting out postgres.js's reconnect backoff, or that was mid-query at
        // the shutdown (postgres.js 3.4.9 replays that 57P01 onto the first
        // query after its reconnect). Both are recorded in afterRestart.
        let round = 0;
        await expect
          .poll(
            async () => {
              round += 1;
              const answers = await probeAll(port!.url, keys, label, `up-${round}`).catch(
                (error: Error) => [
                  { request: 'any', status: error.name } as unknown as ProbeAnswer,
                ],
              );
              afterRestart.push(
                ...answers.filter(
                  (answer) => answer.status >= 500 || typeof answer.status !== 'number',
                ),
              );
              return answers.map((answer) => `${answer.request} ${answer.status}`);
            },
            { timeout: RECOVERY_TIMEOUT_MS, interval: 200 },
          )
          .toEqual([
            'POST /events 201',
            'POST /events 200',
            'POST /tasks 201',
            'POST /tasks/claim 200',
            'POST /tasks/claim 200',
            expect.stringMatching(/^GET \/tasks\/\S+ 404$/),
            'GET /whoami 200',
            'GET /stats 200',
          ]);
        mark('every_call_served_ms');
        // The same port process serves again: nobody restarted it.
        expect(port!.alive()).toBe(true);
        expect(port!.pid).toBe(pidBefore);
      },
    };
    const report = await runScenario('pg', outage);
    console.log(
      JSON.stringify({
        ...report,
        while_database_down: downAnswers.map(
          (answer) => `${answer.request} → ${answer.status} ${answer.text}`,
        ),
        health_while_down: health?.status,
        failures_after_restart: afterRestart.map(
          (answer) => `${answer.request} → ${answer.status}`,
        ),
      }),
    );
  }, 200_000);

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`keeps every event and task through a port restart (${signal}) on the same address`, async () => {
      const outage: Outage = {
        listenSince: new Date(0),
        async run({ load, keys, mark }) {
          const old = port!;
          this.listenSince = await databaseNow();
          await old.kill(signal);
          const downAt = Date.now();
          mark('port_exited_ms');
          // Nothing answers on the address now.
          await expect(probe(old.url, undefined, 'GET', '/health')).rejects.toThrow();
          for (const name of ['single-a', 'single-b', 'batch', 'listen-worker']) {
            await expect
              .poll(() => load.failedAttempts(downAt, name).length, {
                timeout: RECOVERY_TIMEOUT_MS,
                interval: 50,
              })
              .toBeGreaterThanOrEqual(1);
          }
          mark('senders_failed_ms');
          port = await startPortProcess(pg.url, old.port);
          mark('port_started_ms');
          expect(port.url).toBe(old.url);
          expect(port.pid).not.toBe(old.pid);
          await awaitPortServing(keys);
        },
      };
      const report = await runScenario(`port-${signal.toLowerCase()}`, outage);
      console.log(JSON.stringify(report));
    }, 200_000);
  }
});
