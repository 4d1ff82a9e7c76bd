import type { Sql } from '@omnihub/database';
import { createTestDatabase, issueKey, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anon, probeAs, signedIn, sqlState, type Actor } from './as-role.ts';
import { addMember, createUser, secretOf, sha256Hex, type Json } from './fixtures.ts';

let db: TestDatabase;
let sql: Sql;
let acmeId: string;
let acmeViewer: string;
let globexAdmin: string;
let outsider: string;

/** A fixed "now", so every window and bucket below is exact. */
const NOW = Date.parse('2026-11-20T12:00:00Z');
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();
const DAY = 24 * 60;
const SINCE_24H = at(DAY);

interface Event {
  type: string;
  minutesAgo: number;
  data?: { [key: string]: Json };
}

let eventCount = 0;

/** Stores events through the port's own function, with the key of tenant/source. */
async function emit(tenant: string, source: string, events: Event[]): Promise<string> {
  const key = await issueKey(sql, { tenant, source, scopes: ['events:write'] });
  const body = events.map((event) => ({
    type: event.type,
    idempotency_key: `e-${++eventCount}`,
    occurred_at: at(event.minutesAgo),
    data: event.data ?? {},
  }));
  const [row] = await sql`
    select omnilink.port_emit_events(${key.keyId}, ${sha256Hex(secretOf(key.apiKey))}, ${sql.json(body)}) as r`;
  expect(row!.r).toMatchObject({ created: events.length });
  return key.tenantId;
}

const times = (n: number, event: Event): Event[] => Array.from({ length: n }, () => event);

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
  acmeId = await emit('acme', 'lead-gen', [
    ...times(3, { type: 'lead_ingested', minutesAgo: 10 }),
    { type: 'lead_ingested', minutesAgo: 70 },
    ...times(2, { type: 'lead_qualified', minutesAgo: 9 }),
    { type: 'queue_seeded', minutesAgo: 30, data: { queue_size: 4, qualified_leads: 4 } },
    { type: 'queue_seeded', minutesAgo: 5, data: { queue_size: 7, qualified_leads: 7 } },
    // Three days old: outside "24 hours", inside "7 days".
    { type: 'lead_ingested', minutesAgo: 3 * DAY },
    { type: 'queue_seeded', minutesAgo: 3 * DAY, data: { queue_size: 99 } },
  ]);
  await emit('acme', 'apex-sales', [
    ...times(4, { type: 'call_attempted', minutesAgo: 20 }),
    ...times(2, { type: 'call_connected', minutesAgo: 19 }),
    { type: 'meeting_booked', minutesAgo: 18, data: { lead_id: 'x'.repeat(1000) } },
    // A simulated call's events are stamped ahead of the clock.
    { type: 'call_attempted', minutesAgo: -10 },
  ]);
  const globexId = await emit(
    'globex',
    'lead-gen',
    times(5, { type: 'lead_ingested', minutesAgo: 1 }),
  );

  acmeViewer = await createUser(sql, 'viewer@acme.test');
  await addMember(sql, acmeId, acmeViewer, 'viewer');
  globexAdmin = await createUser(sql, 'admin@globex.test');
  await addMember(sql, globexId, globexAdmin, 'admin');
  outsider = await createUser(sql, 'outsider@nowhere.test');
});
afterAll(() => db.drop());

async function panelStats(actor: Actor, tenantId: string, since: string | null) {
  return probeAs(
    sql,
    actor,
    (tx) => tx`
      select source, type, event_count::int as n, last_occurred_at, last_data
      from public.agent_panel_stats(${tenantId}::uuid, ${since}::timestamptz)`,
  );
}

async function series(actor: Actor, tenantId: string, since: string | null, bucket: string) {
  return probeAs(
    sql,
    actor,
    (tx) => tx`
      select bucket_start, source, event_count::int as n
      from public.event_series(${tenantId}::uuid, ${since}::timestamptz, ${bucket}::interval)`,
  );
}

const counts = (rows: readonly { source: string; type: string; n: number }[]) =>
  Object.fromEntries(rows.map((row) => [`${row.source}/${row.type}`, row.n]));

describe('agent_panel_stats', () => {
  it('counts a member’s events per source and type from p_since on, future ones included', async () => {
    const outcome = await panelStats(signedIn(acmeViewer), acmeId, SINCE_24H);
    if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
    expect(counts(outcome.value as never)).toEqual({
      'apex-sales/call_attempted': 5,
      'apex-sales/call_connected': 2,
      'apex-sales/meeting_booked': 1,
      'lead-gen/lead_ingested': 4,
      'lead-gen/lead_qualified': 2,
      'lead-gen/queue_seeded': 2,
    });
  });

  it('moves with the window: an event three days old counts from seven days, and with no bound', async () => {
    const week = await panelStats(signedIn(acmeViewer), acmeId, at(7 * DAY));
    const ever = await panelStats(signedIn(acmeViewer), acmeId, null);
    const hour = await panelStats(signedIn(acmeViewer), acmeId, at(60));
    expect(week.ok && counts(week.value as never)['lead-gen/lead_ingested']).toBe(5);
    expect(ever.ok && counts(ever.value as never)['lead-gen/lead_ingested']).toBe(5);
    expect(hour.ok && counts(hour.value as never)['lead-gen/lead_ingested']).toBe(3);
  });

  it('counts from p_since even inside an hour: that hour’s events before it left out, one at it counted', async () => {
    const ingested = async (since: string) => {
      const outcome = await panelStats(signedIn(acmeViewer), acmeId, since);
      return outcome.ok && counts(outcome.value as never)['lead-gen/lead_ingested'];
    };
    // lead_ingested: one at 10:50, three at 11:50, one three days back.
    expect(await ingested(at(75))).toBe(4);
    expect(await ingested(at(70))).toBe(4);
    expect(await ingested(new Date(NOW - 70 * 60_000 + 1).toISOString())).toBe(3);
    expect(await ingested(at(65))).toBe(3);
  });

  it('returns the data of the latest queue_seeded in the window, and no data for other types', async () => {
    const outcome = await panelStats(signedIn(acmeViewer), acmeId, SINCE_24H);
    if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
    const rows = outcome.value as unknown as {
      type: string;
      last_occurred_at: Date;
      last_data: unknown;
    }[];
    const queue = rows.find((row) => row.type === 'queue_seeded')!;
    expect(queue.last_data).toEqual({ queue_size: 7, qualified_leads: 7 });
    expect(queue.last_occurred_at.toISOString()).toBe(at(5));
    expect(rows.filter((row) => row.last_data !== null).map((row) => row.type)).toEqual([
      'queue_seeded',
    ]);
  });

  it('gives a member of another tenant, and a user of no tenant, no rows at all', async () => {
    for (const actor of [signedIn(globexAdmin), signedIn(outsider)]) {
      const outcome = await panelStats(actor, acmeId, null);
      expect(outcome).toEqual({ ok: true, value: [] });
    }
  });

  it('counts only the caller’s own tenant even for its own id (control for the test above)', async () => {
    const outcome = await panelStats(
      signedIn(globexAdmin),
      (await globexTenantId()) as string,
      null,
    );
    expect(outcome.ok && counts(outcome.value as never)).toEqual({ 'lead-gen/lead_ingested': 5 });
  });
});

describe('event_series', () => {
  it('counts events per source in buckets aligned to whole hours', async () => {
    const outcome = await series(signedIn(acmeViewer), acmeId, SINCE_24H, '1 hour');
    if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
    const rows = (
      outcome.value as unknown as { bucket_start: Date; source: string; n: number }[]
    ).map((row) => `${row.bucket_start.toISOString()} ${row.source} ${row.n}`);
    expect(rows).toEqual([
      '2026-11-20T10:00:00.000Z lead-gen 1',
      '2026-11-20T11:00:00.000Z apex-sales 7',
      '2026-11-20T11:00:00.000Z lead-gen 7',
      '2026-11-20T12:00:00.000Z apex-sales 1',
    ]);
  });

  it('fills a bucket only from p_since on when p_since falls inside it', async () => {
    const firstBucket = async (since: string) => {
      const outcome = await series(signedIn(acmeViewer), acmeId, since, '1 hour');
      if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
      const [row] = outcome.value as unknown as { bucket_start: Date; source: string; n: number }[];
      return `${row!.bucket_start.toISOString()} ${row!.source} ${row!.n}`;
    };
    // The 10:00 bucket holds one lead-gen event, at 10:50.
    expect(await firstBucket(at(75))).toBe('2026-11-20T10:00:00.000Z lead-gen 1');
    expect(await firstBucket(at(65))).toBe('2026-11-20T11:00:00.000Z apex-sales 7');
  });

  it('uses the bucket it is given (6 hours), and takes anything under a minute as one minute', async () => {
    const sixHours = await series(signedIn(acmeViewer), acmeId, null, '6 hours');
    expect(
      sixHours.ok &&
        (sixHours.value as unknown as { bucket_start: Date; source: string; n: number }[]).map(
          (row) => `${row.bucket_start.toISOString()} ${row.source} ${row.n}`,
        ),
    ).toEqual([
      '2026-11-17T12:00:00.000Z lead-gen 2',
      '2026-11-20T06:00:00.000Z apex-sales 7',
      '2026-11-20T06:00:00.000Z lead-gen 8',
      '2026-11-20T12:00:00.000Z apex-sales 1',
    ]);
    const tiny = await series(signedIn(acmeViewer), acmeId, at(60), '1 second');
    expect(
      tiny.ok &&
        (tiny.value as unknown as { bucket_start: Date }[]).every(
          (row) => row.bucket_start.getUTCSeconds() === 0,
        ),
    ).toBe(true);
  });

  it('gives a member of another tenant no buckets', async () => {
    expect(await series(signedIn(globexAdmin), acmeId, null, '1 day')).toEqual({
      ok: true,
      value: [],
    });
  });
});

describe('who may call them', () => {
  it('refuses anon with 42501 (no execute privilege), for both functions', async () => {
    expect(sqlState(await panelStats(anon, acmeId, null))).toBe('42501');
    expect(sqlState(await series(anon, acmeId, null, '1 hour'))).toBe('42501');
  });

  it('are stable, security invoker, with a pinned search_path and plans made per call, executable by authenticated and not anon or public', async () => {
    const rows = await sql`
      select p.proname, p.provolatile, p.prosecdef, p.proconfig,
             has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
             has_function_privilege('anon', p.oid, 'execute') as anon,
             exists (
               select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
               where a.grantee = 0 and a.privilege_type = 'EXECUTE'
             ) as public
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.proname in ('agent_panel_stats', 'event_series')
      order by 1`;
    expect(rows.map((row) => ({ ...row }))).toEqual(
      ['agent_panel_stats', 'event_series'].map((proname) => ({
        proname,
        provolatile: 's',
        prosecdef: false,
        proconfig: ['search_path=""', 'plan_cache_mode=force_custom_plan'],
        authenticated: true,
        anon: false,
        public: false,
      })),
    );
  });
});

async function globexTenantId(): Promise<string> {
  const [row] = await sql`select id from public.tenants where slug = 'globex'`;
  return row!.id as string;
}
