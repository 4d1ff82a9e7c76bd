import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIGRATIONS_DIR, type Sql } from '@omnihub/database';
import { createTestDatabase, issueKey, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAs, signedIn, type Actor, type Tx } from './as-role.ts';
import { addMember, createUser, secretOf, sha256Hex } from './fixtures.ts';

/**
 * public.telemetry_event_rollups and the readers built on it
 * (20261121001700_telemetry_rollups.sql): whatever way events arrive or
 * leave, agent_panel_stats and event_series must return exactly what a
 * plain count of telemetry_events returns.
 */

const MIGRATION = join(MIGRATIONS_DIR, '20261121001700_telemetry_rollups.sql');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Events spread over the 40 days before this, and up to 3 hours after it (stamped ahead). */
const NOW = Date.parse('2026-11-20T12:00:00Z');

const TYPES: Record<string, string[]> = {
  'lead-gen': ['lead_ingested', 'lead_qualified', 'queue_seeded', 'error'],
  'apex-sales': ['call_attempted', 'call_connected', 'meeting_booked'],
};
const BUCKETS = [
  '1 second',
  '-1 hour',
  '5 minutes',
  '90 minutes',
  '1 hour',
  '2 hours',
  '6 hours',
  '1 day',
  '1 day 1 hour',
  '7 days',
];

/** A fixed-seed generator (mulberry32), so a failure can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An ISO time with microseconds: `ms` plus `micros` (0-999). */
const iso = (ms: number, micros = 0) =>
  new Date(ms).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);

/** A time somewhere in the spread: an exact hour, a microsecond either side of one, or anywhere. */
function spreadTime(rand: () => number): string {
  const ms = NOW - 40 * DAY + Math.floor(rand() * (40 * DAY + 3 * HOUR));
  const hour = Math.floor(ms / HOUR) * HOUR;
  const pick = rand();
  if (pick < 0.1) return iso(hour);
  if (pick < 0.15) return iso(hour - 1, 999);
  if (pick < 0.2) return iso(hour, 1);
  return iso(ms, Math.floor(rand() * 1000));
}

interface Event {
  type: string;
  idempotency_key: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

/** Calls the port's own function with the key; returns {created, duplicates}. */
async function emit(
  sql: Sql | Tx,
  key: { keyId: string; apiKey: string },
  events: Event[],
): Promise<{ created: number; duplicates: number }> {
  const [row] = await sql`
    select omnilink.port_emit_events(${key.keyId}, ${sha256Hex(secretOf(key.apiKey))},
      ${sql.json(events as never)}) as r`;
  const result = row!.r as { created: number; duplicates: number; error?: string };
  if (result.error) throw new Error(`port_emit_events: ${JSON.stringify(result)}`);
  return result;
}

/** Events of random types over the spread, with keys `prefix-n`. */
function spreadEvents(rand: () => number, source: string, prefix: string, count: number): Event[] {
  const types = TYPES[source]!;
  return Array.from({ length: count }, (_, n) => {
    const type = types[Math.floor(rand() * types.length)]!;
    return {
      type,
      idempotency_key: `${prefix}-${n}`,
      occurred_at: spreadTime(rand),
      data: type === 'queue_seeded' ? { queue_size: n } : { n },
    };
  });
}

/**
 * Every (tenant, hour, source, type) of the rollup against a count of the
 * raw events, both ways; lists the keys that differ (and any row that counts
 * nothing), so an empty list means the rollup is exact.
 */
async function rollupMismatches(sql: Sql | Tx): Promise<string[]> {
  const rows = await sql`
    with r as (
      select tenant_id, hour, source, type, sum(event_count) as n, max(last_occurred_at) as last,
             bool_or(event_count <= 0) as empty_row
      from public.telemetry_event_rollups group by 1, 2, 3, 4
    ),
    e as (
      select tenant_id, date_bin('1 hour', occurred_at, timestamptz '2001-01-01 00:00:00+00') as hour,
             source, type, count(*) as n, max(occurred_at) as last
      from public.telemetry_events group by 1, 2, 3, 4
    )
    select format('%s %s %s %s: rollup %s (last %s), events %s (last %s)',
                  tenant_id, hour, source, type, r.n, r.last, e.n, e.last) as line
    from r full join e using (tenant_id, hour, source, type)
    where r.n is distinct from e.n or r.last is distinct from e.last or r.empty_row
    order by 1`;
  return rows.map((row) => row.line as string);
}

/** agent_panel_stats as `actor`, in a comparable form (times as text, to the microsecond). */
async function panelsAs(sql: Sql, actor: Actor, tenantId: string, since: string | null) {
  const outcome = await probeAs(
    sql,
    actor,
    (tx) => tx`
      select source, type, event_count::int as n, last_occurred_at::text as last, last_data as data
      from public.agent_panel_stats(${tenantId}::uuid, ${since}::text::timestamptz)`,
  );
  if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
  return outcome.value.map((row) => ({ ...row }));
}

/** What agent_panel_stats must return: a plain count of the tenant's events (as superuser). */
async function panelsCounted(sql: Sql, tenantId: string, since: string | null) {
  const rows = await sql`
    select e.source, e.type, count(*)::int as n, max(e.occurred_at)::text as last,
           case when e.type = 'queue_seeded'
             then (array_agg(e.data order by e.occurred_at desc, e.id desc))[1] end as data
    from public.telemetry_events e
    where e.tenant_id = ${tenantId} and (${since}::text::timestamptz is null or e.occurred_at >= ${since}::text::timestamptz)
    group by 1, 2
    order by 1, 2`;
  return rows.map((row) => ({ ...row }));
}

async function seriesAs(
  sql: Sql,
  actor: Actor,
  tenantId: string,
  since: string | null,
  bucket: string,
) {
  const outcome = await probeAs(
    sql,
    actor,
    (tx) => tx`
      select bucket_start::text as bucket, source, event_count::int as n
      from public.event_series(${tenantId}::uuid, ${since}::text::timestamptz, ${bucket}::interval)`,
  );
  if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
  return outcome.value.map((row) => ({ ...row }));
}

/** What event_series must return: the tenant's events binned by date_bin, counted plainly. */
async function seriesCounted(sql: Sql, tenantId: string, since: string | null, bucket: string) {
  const rows = await sql`
    select b::text as bucket, source, n
    from (
      select date_bin(greatest(${bucket}::interval, interval '1 minute'), e.occurred_at,
                      timestamptz '2001-01-01 00:00:00+00') as b,
             e.source, count(*)::int as n
      from public.telemetry_events e
      where e.tenant_id = ${tenantId}
        and (${since}::text::timestamptz is null or e.occurred_at >= ${since}::text::timestamptz)
      group by 1, 2
    ) s
    order by b, source`;
  return rows.map((row) => ({ ...row }));
}

let db: TestDatabase;
let sql: Sql;
let acme: {
  leadGen: Awaited<ReturnType<typeof issueKey>>;
  apexSales: Awaited<ReturnType<typeof issueKey>>;
};
let globexId: string;
let viewer: string;
let globexAdmin: string;
let outsider: string;
/** Starts of the windows below: random times, exact hours, a µs either side, event times, extremes. */
let windows: (string | null)[];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
  const rand = random(7);
  acme = {
    leadGen: await issueKey(sql, { tenant: 'acme', source: 'lead-gen' }),
    apexSales: await issueKey(sql, { tenant: 'acme', source: 'apex-sales' }),
  };
  const globex = await issueKey(sql, { tenant: 'globex', source: 'lead-gen' });
  globexId = globex.tenantId;

  // Batches of 50 through the port's function, each sent twice (the second
  // time all duplicates), and within each batch a key repeated with another
  // type and time: the repeat must count nowhere.
  const batches: [typeof globex, Event[]][] = [];
  for (const [key, count] of [
    [acme.leadGen, 900],
    [acme.apexSales, 700],
    [globex, 400],
  ] as const) {
    const events = spreadEvents(rand, key.source, `${key.tenantId}-${key.source}`, count);
    for (let i = 0; i < events.length; i += 50) {
      const batch = events.slice(i, i + 50);
      batch.push({ ...batch[0]!, type: 'error', occurred_at: iso(NOW - 39 * DAY) });
      batches.push([key, batch]);
    }
  }
  for (const [key, batch] of batches) {
    expect(await emit(sql, key, batch)).toMatchObject({ created: batch.length - 1, duplicates: 1 });
    expect(await emit(sql, key, batch)).toMatchObject({ created: 0, duplicates: batch.length });
  }
  // And a plain bulk insert, as the benchmarks load events, with keys the port already stored.
  await sql`
    insert into public.telemetry_events (tenant_id, integration_id, source, type, idempotency_key, occurred_at)
    select ${acme.leadGen.tenantId}, ${acme.leadGen.integrationId}, 'lead-gen', 'lead_ingested',
           ${`${acme.leadGen.tenantId}-lead-gen`} || '-' || n,
           ${iso(NOW)}::timestamptz - n * interval '17 minutes 3.000001 seconds'
    from generate_series(800, 1400) n
    on conflict on constraint telemetry_events_integration_idempotency_key do nothing`;

  viewer = await createUser(sql, 'viewer@acme.test');
  await addMember(sql, acme.leadGen.tenantId, viewer, 'viewer');
  globexAdmin = await createUser(sql, 'admin@globex.test');
  await addMember(sql, globexId, globexAdmin, 'admin');
  outsider = await createUser(sql, 'outsider@nowhere.test');

  const [some] = await sql`
    select array_agg(occurred_at::text order by id) as times from (
      select id, occurred_at from public.telemetry_events
      where tenant_id = ${acme.leadGen.tenantId} order by idempotency_key limit 4
    ) e`;
  const [latestQueue] = await sql`
    select max(occurred_at)::text as at from public.telemetry_events
    where tenant_id = ${acme.leadGen.tenantId} and type = 'queue_seeded'`;
  windows = [
    null,
    '-infinity',
    'infinity',
    '1990-01-01T00:00:00Z',
    '2100-01-01T00:00:00Z',
    iso(NOW),
    iso(NOW - DAY),
    iso(NOW - 7 * DAY),
    iso(NOW + HOUR, 500),
    latestQueue!.at as string,
    ...(some!.times as string[]),
    ...Array.from({ length: 16 }, () => spreadTime(rand)),
  ];
});
afterAll(() => db?.drop());

describe('the rollup', () => {
  it('equals a count of the events per tenant, hour, source and type, duplicates counted once', async () => {
    const [stored] = await sql`select count(*)::int as n from public.telemetry_events`;
    // 2,000 distinct keys through the port (each batch twice, with a repeated
    // key), and 601 bulk rows of which 100 repeat keys the port stored.
    expect(stored!.n).toBe(2_501);
    const [summed] =
      await sql`select sum(event_count)::int as n from public.telemetry_event_rollups`;
    expect(summed!.n).toBe(2_501);
    expect(await rollupMismatches(sql)).toEqual([]);
  });

  it('is readable by members of its tenant only', async () => {
    const tenantsSeen = async (actor: Actor) => {
      const outcome = await probeAs(
        sql,
        actor,
        (tx) => tx`select distinct tenant_id::text as t from public.telemetry_event_rollups`,
      );
      if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
      return outcome.value.map((row) => row.t as string);
    };
    expect(await tenantsSeen(signedIn(viewer))).toEqual([acme.leadGen.tenantId]);
    expect(await tenantsSeen(signedIn(globexAdmin))).toEqual([globexId]);
    expect(await tenantsSeen(signedIn(outsider))).toEqual([]);
  });
});

describe('agent_panel_stats and event_series read from the rollup', () => {
  it('give the panels exactly what a count of the events gives, for every window', async () => {
    for (const since of windows) {
      const got = await panelsAs(sql, signedIn(viewer), acme.leadGen.tenantId, since);
      expect({ since, rows: got }).toEqual({
        since,
        rows: await panelsCounted(sql, acme.leadGen.tenantId, since),
      });
    }
    // The windows are not all empty or all full.
    const sizes = new Set<number>();
    for (const since of windows) {
      const rows = await panelsCounted(sql, acme.leadGen.tenantId, since);
      sizes.add(rows.reduce((sum, row) => sum + (row.n as number), 0));
    }
    expect(sizes.size).toBeGreaterThan(15);
  });

  it('give the chart exactly what a count of the events gives, for every window and bucket', async () => {
    for (const since of windows) {
      for (const bucket of BUCKETS) {
        const got = await seriesAs(sql, signedIn(viewer), acme.leadGen.tenantId, since, bucket);
        expect({ since, bucket, rows: got }).toEqual({
          since,
          bucket,
          rows: await seriesCounted(sql, acme.leadGen.tenantId, since, bucket),
        });
      }
    }
  });

  it('take whole hours from the rollup: a changed rollup row shows in whole-hour answers only', async () => {
    // Proves the readers use the rollup (the equality above would also hold
    // for a plain count). Rolled back.
    const since = iso(NOW - 7 * DAY - 30 * 60_000);
    const answers = await sql
      .begin(async (tx) => {
        const [row] = await tx`
          update public.telemetry_event_rollups set event_count = event_count + 1000
          where (tenant_id, hour, source, type, shard) = (
            select tenant_id, hour, source, type, shard from public.telemetry_event_rollups
            where tenant_id = ${acme.leadGen.tenantId} and source = 'lead-gen' and type = 'lead_ingested'
              and hour >= ${iso(NOW - 2 * DAY)}
            order by hour limit 1)
          returning hour`;
        expect(row).toBeDefined();
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: viewer, role: 'authenticated' })}, true)`;
        await tx`set local role authenticated`;
        const [panels] = await tx`
          select sum(event_count)::int as n from public.agent_panel_stats(${acme.leadGen.tenantId}::uuid, ${since}::text::timestamptz)
          where source = 'lead-gen'`;
        const [hourly] = await tx`
          select sum(event_count)::int as n from public.event_series(${acme.leadGen.tenantId}::uuid, ${since}::text::timestamptz, '1 hour')
          where source = 'lead-gen'`;
        const [fiveMinutes] = await tx`
          select sum(event_count)::int as n from public.event_series(${acme.leadGen.tenantId}::uuid, ${since}::text::timestamptz, '5 minutes')
          where source = 'lead-gen'`;
        throw new RolledBack({ panels: panels!.n, hourly: hourly!.n, fiveMinutes: fiveMinutes!.n });
      })
      .catch((error: unknown) => {
        if (error instanceof RolledBack) return error.value as Record<string, number>;
        throw error;
      });
    const [counted] = await sql`
      select count(*)::int as n from public.telemetry_events
      where tenant_id = ${acme.leadGen.tenantId} and source = 'lead-gen' and occurred_at >= ${since}`;
    expect(answers).toEqual({
      panels: counted!.n + 1000,
      hourly: counted!.n + 1000,
      fiveMinutes: counted!.n,
    });
  });

  it('give a member of another tenant and a user of no tenant nothing, and a member only their own tenant', async () => {
    for (const actor of [signedIn(globexAdmin), signedIn(outsider)]) {
      expect(await panelsAs(sql, actor, acme.leadGen.tenantId, null)).toEqual([]);
      expect(await seriesAs(sql, actor, acme.leadGen.tenantId, null, '1 day')).toEqual([]);
    }
    expect(await panelsAs(sql, signedIn(viewer), globexId, null)).toEqual([]);
    // Control: globex's own admin does see globex's events.
    expect(await panelsAs(sql, signedIn(globexAdmin), globexId, null)).toEqual(
      await panelsCounted(sql, globexId, null),
    );
  });
});

describe('concurrent writers', () => {
  it('do not wait for each other on a rollup row: a second writer adds a row of its own', async () => {
    const hour = Date.parse('2026-12-01T08:00:00Z');
    const event = (n: number): Event => ({
      type: 'lead_ingested',
      idempotency_key: `held-${n}`,
      occurred_at: iso(hour + n * 1000),
      data: {},
    });
    const holder = await sql.reserve();
    const other = await sql.reserve();
    try {
      // The key's row is made by `other`, so its shard is other's own.
      await emit(other, acme.leadGen, [event(0)]);
      await holder.unsafe('begin');
      await emit(holder, acme.leadGen, [event(1)]);
      // The holder keeps the key's row locked until it commits. A writer that
      // waited for it would fail here instead of hanging the test.
      await other`set lock_timeout = '5s'`;
      expect(await emit(other, acme.leadGen, [event(2)])).toMatchObject({
        created: 1,
      });
      await holder.unsafe('commit');
    } finally {
      await holder.unsafe('rollback').catch(() => {});
      await other`reset lock_timeout`;
      holder.release();
      other.release();
    }
    const rows = await sql`
      select event_count::int as n from public.telemetry_event_rollups
      where tenant_id = ${acme.leadGen.tenantId} and hour = ${iso(hour)} and type = 'lead_ingested'
      order by shard`;
    expect(rows.map((row) => row.n as number).sort()).toEqual([1, 2]);
    expect(await rollupMismatches(sql)).toEqual([]);
  });

  it('ingesting the same types and keys at once from 6 connections: no deadlock, counts exact, rows bounded', async () => {
    const hour = Date.parse('2026-12-02T09:00:00Z');
    const CONNECTIONS = 6;
    const rand = random(11);
    const connections = await Promise.all(Array.from({ length: CONNECTIONS }, () => sql.reserve()));
    const sent = new Set<string>();
    try {
      await Promise.all(
        connections.map(async (connection) => {
          for (let call = 0; call < 40; call++) {
            // 1 to 5 events, keys from a shared pool, so requests race on the same keys and rows.
            const events = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => {
              const n = Math.floor(rand() * 300);
              sent.add(`race-${n}`);
              return {
                type: ['lead_ingested', 'lead_qualified'][n % 2]!,
                idempotency_key: `race-${n}`,
                occurred_at: iso(hour + n * 10_000),
                data: {},
              };
            });
            await emit(connection, acme.leadGen, events);
          }
        }),
      );
    } finally {
      for (const connection of connections) connection.release();
    }
    const [raced] = await sql`
      select count(*)::int as n from public.telemetry_events where idempotency_key like 'race-%'`;
    expect(raced!.n).toBe(sent.size);
    expect(await rollupMismatches(sql)).toEqual([]);
    const [widest] = await sql`
      select max(n)::int as n from (
        select count(*) as n from public.telemetry_event_rollups
        where tenant_id = ${acme.leadGen.tenantId} and hour >= ${iso(hour)} and hour < ${iso(hour + HOUR)}
        group by type
      ) k`;
    expect(widest!.n).toBeLessThanOrEqual(CONNECTIONS);
    expect(await panelsAs(sql, signedIn(viewer), acme.leadGen.tenantId, iso(hour))).toEqual(
      await panelsCounted(sql, acme.leadGen.tenantId, iso(hour)),
    );
  });
});

describe('events that change or go', () => {
  /** Runs `fn` as superuser in a transaction that is rolled back; returns its value. */
  async function rolledBack<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return sql
      .begin(async (tx) => {
        throw new RolledBack(await fn(tx));
      })
      .catch((error: unknown) => {
        if (error instanceof RolledBack) return error.value as T;
        throw error;
      });
  }

  it('a deleted event leaves its hour: the count and the latest time are recounted', async () => {
    const outcome = await rolledBack(async (tx) => {
      // The latest event of a type, so last_occurred_at must move back.
      const [latest] = await tx`
        delete from public.telemetry_events where id = (
          select id from public.telemetry_events
          where tenant_id = ${acme.apexSales.tenantId} and type = 'call_connected'
          order by occurred_at desc limit 1)
        returning occurred_at::text as at`;
      const [rollup] = await tx`
        select max(last_occurred_at) < ${latest!.at as string}::timestamptz as moved_back
        from public.telemetry_event_rollups
        where tenant_id = ${acme.apexSales.tenantId} and type = 'call_connected'`;
      // And one of many in an hour, so the hour's count goes down without going away.
      const [busiest] = await tx`
        delete from public.telemetry_events where id = (
          select e.id from public.telemetry_events e
          join lateral (
            select count(*) as n from public.telemetry_events o
            where o.tenant_id = e.tenant_id and o.source = e.source and o.type = e.type
              and date_bin('1 hour', o.occurred_at, timestamptz '2001-01-01 00:00:00+00')
                = date_bin('1 hour', e.occurred_at, timestamptz '2001-01-01 00:00:00+00')
          ) h on true
          where e.tenant_id = ${acme.leadGen.tenantId}
          order by h.n desc, e.id limit 1)
        returning date_bin('1 hour', occurred_at, timestamptz '2001-01-01 00:00:00+00') as hour, source, type`;
      const [left] = await tx`
        select sum(event_count)::int as n from public.telemetry_event_rollups
        where tenant_id = ${acme.leadGen.tenantId} and hour = ${busiest!.hour as Date}
          and source = ${busiest!.source as string} and type = ${busiest!.type as string}`;
      return {
        movedBack: rollup!.moved_back as boolean,
        left: left!.n as number,
        mismatches: await rollupMismatches(tx),
      };
    });
    expect(outcome).toEqual({ movedBack: true, left: expect.any(Number), mismatches: [] });
    expect(outcome.left).toBeGreaterThan(0);
  });

  it('deleting an integration or a tenant takes its counts with its events', async () => {
    const outcome = await rolledBack(async (tx) => {
      await tx`delete from public.integrations where id = ${acme.apexSales.integrationId}`;
      const [apex] = await tx`
        select count(*)::int as n from public.telemetry_event_rollups
        where tenant_id = ${acme.apexSales.tenantId} and source = 'apex-sales'`;
      await tx`delete from public.tenants where id = ${globexId}`;
      const [globex] = await tx`
        select count(*)::int as n from public.telemetry_event_rollups where tenant_id = ${globexId}`;
      const [left] = await tx`
        select count(*)::int as n from public.telemetry_event_rollups where tenant_id = ${acme.leadGen.tenantId}`;
      return {
        apex: apex!.n,
        globex: globex!.n,
        left: left!.n,
        mismatches: await rollupMismatches(tx),
      };
    });
    expect(outcome).toEqual({ apex: 0, globex: 0, left: expect.any(Number), mismatches: [] });
    expect(outcome.left).toBeGreaterThan(0);
  });

  it('an updated event moves to its new hour and type', async () => {
    const mismatches = await rolledBack(async (tx) => {
      await tx`
        update public.telemetry_events
        set occurred_at = occurred_at - interval '5 hours 17 minutes', type = 'lead_enriched'
        where tenant_id = ${acme.leadGen.tenantId} and type = 'lead_qualified'
          and occurred_at >= ${iso(NOW - 10 * DAY)}`;
      return rollupMismatches(tx);
    });
    expect(mismatches).toEqual([]);
  });

  it('a truncate of the events empties the rollup', async () => {
    const left = await rolledBack(async (tx) => {
      await tx`truncate public.telemetry_events`;
      const [row] = await tx`select count(*)::int as n from public.telemetry_event_rollups`;
      return row!.n as number;
    });
    expect(left).toBe(0);
  });
});

describe('the migration', () => {
  it('fills the rollup from the events already stored', async () => {
    // A database as it was before the migration, with events in it; then the migration itself.
    const before = await createTestDatabase();
    try {
      const old = before.sql;
      await old`drop table public.telemetry_event_rollups`;
      for (const row of await old`
        select p.oid::regprocedure::text as fn from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'omnilink' and p.proname like 'telemetry\\_rollup\\_%'`) {
        await old.unsafe(`drop function ${row.fn as string} cascade`);
      }
      const [triggers] = await old`
        select count(*)::int as n from pg_trigger where tgrelid = 'public.telemetry_events'::regclass and not tgisinternal`;
      expect(triggers!.n).toBe(0);

      const rand = random(23);
      const key = await issueKey(old, { tenant: 'acme', source: 'lead-gen' });
      const otherKey = await issueKey(old, { tenant: 'globex', source: 'apex-sales' });
      const events = spreadEvents(rand, 'lead-gen', 'before', 300);
      await emit(old, key, events);
      await emit(old, key, events.slice(0, 100));
      await emit(old, otherKey, spreadEvents(rand, 'apex-sales', 'before', 200));

      const migration = await readFile(MIGRATION, 'utf8');
      await old.begin((tx) => tx.unsafe(migration));
      expect(await rollupMismatches(old)).toEqual([]);
      const [summed] =
        await old`select sum(event_count)::int as n from public.telemetry_event_rollups`;
      expect(summed!.n).toBe(500);

      // And counts on from there.
      await emit(old, key, spreadEvents(rand, 'lead-gen', 'after', 50));
      expect(await rollupMismatches(old)).toEqual([]);
    } finally {
      await before.drop();
    }
  });
});

class RolledBack extends Error {
  constructor(readonly value: unknown) {
    super('Rolled back on purpose.');
  }
}
