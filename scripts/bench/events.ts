/**
 * Event ingest: events stored through POST /events, one per request and in
 * batches of 100, with 10% duplicates (an idempotency key sent before), next
 * to a plain `insert … on conflict do nothing` of the same rows called
 * directly on the same Postgres.
 */
import type { Sql } from '@omnihub/database';
import { startProcess } from '@omnihub/database/testing';
import {
  callBudget,
  runLoad,
  throughput,
  watchPeakRss,
  type Benchmark,
  type BenchRow,
  type Measurement,
} from './measure.ts';
import { jsonPoster } from './http-client.ts';
import { cpuMeter, issueBenchPortKey, startPortStack, type BenchPortKey } from './port-stack.ts';

const CONCURRENCY = 8;
const BATCH = 100;
/** Share of events whose idempotency key was sent before. */
const DUPLICATE_SHARE = 0.1;

interface BenchEvent {
  type: string;
  idempotency_key: string;
  data: Record<string, unknown>;
}

/** Every tenth event from the 110th on repeats the key of the event 105 before it (itself never a repeat). */
const REPEAT_DISTANCE = 105;
const isRepeat = (n: number) => n > REPEAT_DISTANCE && n % Math.round(1 / DUPLICATE_SHARE) === 0;

/** Events with fresh keys, every tenth one repeating a key sent earlier. */
function eventSource(prefix: string) {
  let next = 0;
  return (count: number): BenchEvent[] =>
    Array.from({ length: count }, () => {
      const n = next++;
      const key = isRepeat(n) ? `${prefix}-${n - REPEAT_DISTANCE}` : `${prefix}-${n}`;
      return {
        type: 'lead_ingested',
        idempotency_key: key,
        data: { lead_id: String(n), url: 'https://example.com/lead', role: 'CTO', score: 0.82 },
      };
    });
}

/**
 * The floor of any HTTP endpoint on this machine: a bare node:http server
 * (its own process, like the port) answering `{}` to every POST, driven by
 * the same client loops. What the port does on top of this is its own cost.
 */
async function httpFloor(total: number, body: string): Promise<Measurement> {
  const server = startProcess(process.execPath, [
    '-e',
    `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.setHeader('content-type', 'application/json'); s.end('{}'); }); }).listen(0, '127.0.0.1', function () { console.log('ready ' + this.address().port); });`,
  ]);
  try {
    const [, port] = await server.waitFor(/ready (\d+)/);
    const post = jsonPoster(`http://127.0.0.1:${port}/`, {}, CONCURRENCY);
    const send = () => post(body);
    for (let i = 0; i < 200; i++) await send();
    const budget = callBudget(total);
    return {
      ...(await runLoad(
        'bare node:http server, 1 request per event',
        'event',
        CONCURRENCY,
        async () => {
          if (!budget.take()) return 0;
          await send();
          return 1;
        },
      )),
      label: 'bare HTTP',
    };
  } finally {
    server.child.kill('SIGKILL');
  }
}

/** Sends exactly `total` events in calls of `perCall`, from `CONCURRENCY` loops. */
function ingest(
  name: string,
  total: number,
  perCall: number,
  send: (events: BenchEvent[]) => Promise<unknown>,
  events: (count: number) => BenchEvent[],
): Promise<Measurement> {
  const budget = callBudget(total / perCall);
  return runLoad(name, 'event', CONCURRENCY, async () => {
    if (!budget.take()) return 0;
    await send(events(perCall));
    return perCall;
  });
}

/** The baseline: the rows the port would store, inserted with ON CONFLICT DO NOTHING and nothing else. */
function directInsert(sql: Sql, key: BenchPortKey) {
  return (events: BenchEvent[]) => sql`
    insert into telemetry_events (tenant_id, integration_id, source, type, idempotency_key, data)
    select ${key.tenantId}, ${key.integrationId}, ${key.source}, e ->> 'type', e ->> 'idempotency_key', e -> 'data'
    from jsonb_array_elements(${sql.json(events as never)}::jsonb) e
    -- In key order, as the port inserts: concurrent batches sharing keys cannot deadlock.
    order by e ->> 'idempotency_key'
    on conflict on constraint telemetry_events_integration_idempotency_key do nothing`;
}

export const eventIngest: Benchmark = {
  name: 'event-ingest',
  async run({ quick, log }) {
    const singles = quick ? 2_000 : 10_000;
    const batched = quick ? 20_000 : 100_000;
    const stack = await startPortStack();
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    let single: Measurement;
    let batch: Measurement;
    let batchBaseline: Measurement;
    try {
      const key = await issueBenchPortKey(stack.sql, 'bench', 'bench-agent');
      const direct = directInsert(stack.sql, key);
      const send = jsonPoster(
        `${stack.functionsUrl}/omnilink-port/events`,
        { authorization: `Bearer ${key.apiKey}` },
        CONCURRENCY,
      );
      const post = async (body: unknown) => {
        const response = await send(JSON.stringify(body));
        if (response.status >= 300)
          throw new Error(`POST /events: ${response.status} ${response.text}`);
      };
      const viaPort = async (name: string, total: number, perCall: number, prefix: string) => {
        const rss = watchPeakRss(() => [stack.port.child.pid!]);
        const cpu = await cpuMeter(stack, { client: process.pid });
        let measurement: Measurement;
        try {
          measurement = await ingest(
            name,
            total,
            perCall,
            (events) => post(perCall === 1 ? events[0] : { events }),
            eventSource(prefix),
          );
        } catch (error) {
          rss.stop();
          throw error;
        }
        const peakRssMiB = rss.stop();
        const perEvent = await cpu.perOperation(total);
        notes.push(
          `${name}: CPU per event ${perEvent.postgres} µs in Postgres, ${perEvent.port} µs in the port, ${perEvent.client} µs in this process (the client)`,
        );
        return { ...measurement, peakRssMiB };
      };

      // Warm-up of every path measured (connections, plans, JIT), one call
      // at a time and in batches.
      await ingest('warm-up', 2_000, 1, direct, eventSource('warm-direct-single'));
      await ingest('warm-up', 2_000, BATCH, direct, eventSource('warm-direct'));
      await viaPort('warm-up', 2_000, 1, 'warm-port-single');
      await viaPort('warm-up', 2_000, BATCH, 'warm-port');
      notes.length = 0;

      log(`single events: ${singles} each`);
      const singleBaseline = await ingest(
        'insert … on conflict do nothing, 1 per statement',
        singles,
        1,
        direct,
        eventSource('direct-single'),
      );
      single = await viaPort('POST /events, 1 per request', singles, 1, 'port-single');
      const floor = await httpFloor(singles, JSON.stringify(eventSource('floor')(1)[0]));
      log(`batches of ${BATCH}: ${batched} events each`);
      batchBaseline = await ingest(
        `insert … on conflict do nothing, ${BATCH} per statement`,
        batched,
        BATCH,
        direct,
        eventSource('direct-batch'),
      );
      batch = await viaPort(`POST /events, ${BATCH} per request`, batched, BATCH, 'port-batch');
      rows.push(
        { measurement: singleBaseline },
        {
          measurement: single,
          baselines: [{ ...singleBaseline, label: 'direct insert' }, floor],
        },
        { measurement: floor },
        { measurement: batchBaseline },
        { measurement: batch, baselines: [{ ...batchBaseline, label: 'direct insert' }] },
      );

      // Nothing lost, nothing duplicated: one row per distinct key sent through the port.
      const [stored] = await stack.sql`
        select count(*)::int as n from telemetry_events
        where idempotency_key like 'port-single-%' or idempotency_key like 'port-batch-%'`;
      const expected = distinctKeys(singles) + distinctKeys(batched);
      if (stored!.n !== expected)
        throw new Error(`event ingest: ${stored!.n} events stored, expected ${expected}`);
    } finally {
      await stack.close();
    }
    return {
      title: 'Event ingest',
      method: `Events of about 150 bytes, ${DUPLICATE_SHARE * 100}% of them repeating an idempotency key sent 105 events earlier, sent from ${CONCURRENCY} concurrent loops in the bench process to the port (its own process) over HTTP with keep-alive (node:http, one socket per loop); the baseline inserts the same rows straight into telemetry_events with \`insert … on conflict do nothing\` from ${CONCURRENCY} connections. Afterwards the stored rows are counted: one per distinct key. The bare node:http row is the floor of any HTTP endpoint here: a server (its own process) that only answers \`{}\`, driven by the same client loops. Latency is per request (or statement); peak RSS is the port process's.`,
      rows,
      notes,
      targets: [
        {
          what: 'batched ≥ 20,000 events/s',
          measured: `${Math.round(throughput(batch)).toLocaleString('en-US')} events/s`,
          met: throughput(batch) >= 20_000,
        },
        {
          what: 'batched ≥ 0.5× direct insert',
          measured: `${(throughput(batch) / throughput(batchBaseline)).toFixed(2)}×`,
          met: throughput(batch) >= 0.5 * throughput(batchBaseline),
        },
        {
          what: 'single ≥ 2,000 events/s',
          measured: `${Math.round(throughput(single)).toLocaleString('en-US')} events/s`,
          met: throughput(single) >= 2_000,
        },
      ],
    };
  },
};

/** How many distinct keys eventSource produces in `count` events. */
function distinctKeys(count: number): number {
  let distinct = 0;
  for (let n = 0; n < count; n++) if (!isRepeat(n)) distinct++;
  return distinct;
}
