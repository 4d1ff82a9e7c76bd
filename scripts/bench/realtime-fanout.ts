/**
 * Realtime fan-out: how long an event written through the OmniLink Port
 * takes to reach the dashboards watching its tenant. `pnpm dev` runs as a
 * child process on a data dir of its own; this process holds the
 * subscribers (supabase-js clients, each signed in as its own member of the
 * demo tenant, each on its own socket, subscribed to telemetry_events
 * INSERTs of the tenant as OmniDash's channel is) and writes one event at a
 * time with POST /events, the next once every subscriber has the last one.
 */
import { pathToFileURL } from 'node:url';
import { connectDatabase, type Sql } from '@omnihub/database';
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import {
  latencyPercentiles,
  renderSection,
  watchPeakRss,
  type Benchmark,
  type BenchOptions,
  type BenchRow,
  type BenchSection,
  type Measurement,
} from './measure.ts';
import {
  DEV_READY,
  freePortPair,
  insertMember,
  latencyTarget,
  readDevBanner,
  signedInClient,
  spawnDev,
  stopDev,
  stopLeftoverPostgres,
  tempDir,
  within,
} from './stack-support.ts';

const MANY = 20;
/** The paced run: a write every this many ms whatever the deliveries do (20 a second). */
const PACE_MS = 50;
const WARMUP_WRITES = 10;
/**
 * A lock-step write stops waiting for its deliveries after this long and
 * the next one goes out: a change the stack drops must not stall the run.
 * A delivery arriving later still counts, with its real latency.
 */
const GIVE_UP_MS = 2_000;
const TARGET_P50_MS = 100;

/** One write and its deliveries so far. */
interface Pending {
  sentAt: number;
  /** Subscribers (by index) that have it. */
  received: Set<number>;
  latencies: number[];
  allReceived: () => void;
}

/** What the writes of one phase got: per-delivery latencies, until-the-last latencies, and losses. */
interface Collected {
  each: number[];
  /** One per write that reached every subscriber: its slowest delivery. */
  untilAll: number[];
  /** Deliveries that never arrived (writes × subscribers − received). */
  lost: number;
  expected: number;
}

/** Matches what each subscriber receives to the write that sent it (by idempotency key). */
class Deliveries {
  readonly #pending = new Map<string, Pending>();
  subscribers = 0;

  /** Call right before sending; resolves once every subscriber has it, or after GIVE_UP_MS. */
  track(key: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GIVE_UP_MS);
      this.#pending.set(key, {
        sentAt: performance.now(),
        received: new Set(),
        latencies: [],
        allReceived: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      if (this.subscribers === 0) this.#pending.get(key)!.allReceived();
    });
  }

  received(subscriber: number, key: string): void {
    const at = performance.now();
    const pending = this.#pending.get(key);
    if (!pending || pending.received.has(subscriber)) return;
    pending.received.add(subscriber);
    pending.latencies.push(at - pending.sentAt);
    if (pending.received.size === this.subscribers) pending.allReceived();
  }

  /** The writes tracked since the last collect(), and forgets them. */
  collect(): Collected {
    const writes = [...this.#pending.values()];
    this.#pending.clear();
    const each = writes.flatMap((write) => write.latencies);
    return {
      each,
      untilAll: writes
        .filter((write) => write.received.size === this.subscribers)
        .map((write) => Math.max(...write.latencies)),
      lost: writes.length * this.subscribers - each.length,
      expected: writes.length * this.subscribers,
    };
  }
}

async function run({ quick, log }: BenchOptions): Promise<BenchSection> {
  const samples = quick ? 40 : 300;
  const dir = await tempDir('realtime');
  const dev = spawnDev(dir.path, await freePortPair());
  const clients: SupabaseClient[] = [];
  let admin: Sql | undefined;
  try {
    log('realtime-fanout: starting pnpm dev…');
    await dev.waitFor(DEV_READY, 120_000);
    const banner = readDevBanner(dev.output());
    const apiKey = banner.demoKeys['lead-gen'];
    if (!apiKey) throw new Error(`pnpm dev printed no lead-gen demo key:\n${dev.output()}`);
    admin = connectDatabase(banner.databaseUrl, { max: 2, applicationName: 'bench-realtime' });
    const [tenant] = await admin`select id from public.tenants where slug = 'demo'`;
    const tenantId = tenant!.id as string;

    const deliveries = new Deliveries();
    let sequence = 0;
    const write = async (key: string) => {
      const response = await fetch(`${banner.portUrl}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'lead_ingested',
          idempotency_key: key,
          data: { lead_id: key },
        }),
      });
      const body = await response.text();
      if (!response.ok) throw new Error(`POST /events answered ${response.status}: ${body}`);
    };

    /** Adds subscribers up to `count`: each a new member, client, socket and channel. */
    const subscribeUpTo = async (count: number) => {
      while (clients.length < count) {
        const index = clients.length;
        const user = await insertMember(admin!, tenantId, 'viewer');
        const client = await signedInClient(banner.apiUrl, banner.anonKey, user);
        clients.push(client);
        await subscribe(client, tenantId, (key) => deliveries.received(index, key));
      }
      deliveries.subscribers = count;
    };

    const stackRss = () => watchPeakRss(() => [dev.child.pid!]);
    /** A phase's writes as a row: per-delivery latencies (or until the last subscriber has it). */
    const phaseRow = (
      name: string,
      seconds: number,
      peakRssMiB: number,
      latencies: number[],
    ): Measurement => ({
      name,
      unit: 'event',
      operations: samples,
      seconds,
      latencies,
      peakRssMiB,
    });
    const losses: string[] = [];
    const noteLosses = (phase: string, collected: Collected) => {
      if (collected.lost > 0)
        losses.push(
          `${phase}: ${collected.lost} of ${collected.expected} deliveries never arrived`,
        );
    };

    // Baseline: the write alone (no subscriber), its HTTP round trip.
    log('realtime-fanout: POST /events without subscribers…');
    const baseline = await timeWrites(samples, () => write(`rt-${++sequence}`), stackRss());

    await subscribeUpTo(1);
    for (let i = 0; i < WARMUP_WRITES; i++) {
      const delivered = deliveries.track(`rt-warm-${i}`);
      await write(`rt-warm-${i}`);
      await delivered;
    }
    deliveries.collect();

    const rows: BenchRow[] = [{ measurement: baseline }];
    const lockStep: Record<number, Measurement> = {};
    let untilAll: Measurement | undefined;
    for (const count of [1, MANY]) {
      const name = `fan-out, ${count} subscriber${count === 1 ? '' : 's'}, lock-step`;
      log(`realtime-fanout: ${name}, ${samples} writes…`);
      await subscribeUpTo(count);
      const rss = stackRss();
      const started = performance.now();
      for (let i = 0; i < samples; i++) {
        const key = `rt-${++sequence}`;
        const delivered = deliveries.track(key);
        await write(key);
        await delivered;
      }
      const seconds = (performance.now() - started) / 1000;
      const peak = rss.stop();
      const collected = deliveries.collect();
      noteLosses(name, collected);
      lockStep[count] = phaseRow(name, seconds, peak, collected.each);
      rows.push({ measurement: lockStep[count]!, baselines: [baseline] });
      if (count > 1) {
        untilAll = phaseRow(`${name}, until the last has it`, seconds, peak, collected.untilAll);
        rows.push({ measurement: untilAll, baselines: [baseline] });
      }
    }

    const pacedName = `fan-out, ${MANY} subscribers, paced ${1000 / PACE_MS} writes/s`;
    log(`realtime-fanout: ${pacedName}, ${samples} writes…`);
    const rss = stackRss();
    const started = performance.now();
    await pacedWrites(
      samples,
      (key) => {
        const delivered = deliveries.track(key);
        return write(key).then(() => delivered);
      },
      () => `rt-${++sequence}`,
    );
    const seconds = (performance.now() - started) / 1000;
    const paced = deliveries.collect();
    noteLosses(pacedName, paced);
    rows.push({
      measurement: phaseRow(pacedName, seconds, rss.stop(), paced.each),
      baselines: [baseline],
    });

    const last = latencyPercentiles(untilAll!);
    const lost = losses.length === 0;
    return {
      title: 'Realtime fan-out',
      method:
        `\`pnpm dev --skip-build\` (scripts/dev.ts) runs as a child process on a fresh data dir with its embedded Postgres; ` +
        `this process holds the subscribers: real supabase-js clients, each signed in with a password as its own viewer of the demo tenant, ` +
        `each on its own WebSocket, subscribed to postgres_changes INSERT on public.telemetry_events filtered by tenant_id (as OmniDash's tenant channel). ` +
        `Writes are POST /events (one event, the demo lead-gen key) over HTTP; latency = receipt time in a subscriber's callback − the time just before the request, ` +
        `one sample per write and subscriber. Lock-step: the next write once every subscriber has the last one (or after ${GIVE_UP_MS / 1000} s; a later arrival still counts), ` +
        `${samples} writes after ${WARMUP_WRITES} warm-up writes; paced: a write every ${PACE_MS} ms regardless. ` +
        `The baseline is the write's own HTTP round trip with no subscriber; "vs baseline" compares writes/s. ` +
        `Peak RSS is the pnpm dev process alone (Node: port, auth, REST, Realtime), not Postgres and not the subscribers.`,
      rows,
      targets: [
        latencyTarget('port write → 1 Realtime subscriber', lockStep[1]!, 'p50', TARGET_P50_MS),
        latencyTarget(
          `port write → each of ${MANY} Realtime subscribers`,
          lockStep[MANY]!,
          'p50',
          TARGET_P50_MS,
        ),
        {
          what: 'every write reaches every subscriber',
          measured: lost ? 'all delivered' : losses.join('; '),
          met: lost,
        },
      ],
      notes: [
        `With ${MANY} subscribers the last one has the event after p50 ${last.p50.toFixed(1)} ms / p95 ${last.p95.toFixed(1)} ms: ` +
          `the stack checks each change against RLS once per distinct token (here one per subscriber), the checks of one change at once, then sends in join order.`,
      ],
    };
  } catch (error) {
    // What the stack said is usually why (it logs problems to stderr).
    const said = dev.output().split('\n').slice(-20).join('\n');
    throw new Error(`${(error as Error).message}\npnpm dev's last output:\n${said}`, {
      cause: error,
    });
  } finally {
    for (const client of clients) {
      await within(client.removeAllChannels(), 5_000, 'leave').catch(() => {});
      client.realtime.disconnect();
    }
    await admin?.end({ timeout: 2 });
    await stopDev(dev);
    await stopLeftoverPostgres(dir.path);
    await dir.remove();
  }
}

/** Joins the tenant's channel for telemetry_events INSERTs; resolves once subscribed. */
function subscribe(
  client: SupabaseClient,
  tenantId: string,
  onInsert: (idempotencyKey: string) => void,
): Promise<RealtimeChannel> {
  return within(
    new Promise<RealtimeChannel>((resolve, reject) => {
      const channel = client.channel(`omnidash:${tenantId}`).on(
        'postgres_changes',
        {
          event: 'INSERT',
          schema: 'public',
          table: 'telemetry_events',
          filter: `tenant_id=eq.${tenantId}`,
        },
        (payload) => onInsert(String(payload.new.idempotency_key)),
      );
      channel.subscribe((status, error) => {
        if (status === 'SUBSCRIBED') resolve(channel);
        else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT')
          reject(new Error(`subscribing failed (${status}): ${error?.message ?? ''}`));
      });
    }),
    30_000,
    'the Realtime channel was not subscribed within 30 s',
  );
}

/** `samples` writes one after another, timed by their HTTP round trip. */
async function timeWrites(
  samples: number,
  write: () => Promise<void>,
  rss: { stop(): number },
): Promise<Measurement> {
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await write();
    latencies.push(performance.now() - t0);
  }
  return {
    name: 'POST /events alone, no subscriber',
    label: 'write alone',
    unit: 'event',
    operations: samples,
    seconds: (performance.now() - started) / 1000,
    latencies,
    peakRssMiB: rss.stop(),
  };
}

/** A write every PACE_MS on a fixed schedule (open loop: not after the last delivery). */
async function pacedWrites(
  samples: number,
  send: (key: string) => Promise<void>,
  nextKey: () => string,
): Promise<void> {
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < samples; i++) {
    // The schedule itself, not an event being waited for.
    const due = started + i * PACE_MS - performance.now();
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    inFlight.push(send(nextKey()));
  }
  await Promise.all(inFlight);
}

export const realtimeFanout: Benchmark = { name: 'realtime-fanout', run };

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const section = await realtimeFanout.run({
    quick: process.argv.includes('--quick'),
    log: console.log,
  });
  console.log(`\n${renderSection(section)}`);
}
