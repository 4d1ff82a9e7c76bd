import type { Sql } from '@omnihub/database';
import {
  createTestDatabase,
  issueKey,
  type IssuedKey,
  type TestDatabase,
} from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretOf, sha256Hex } from './fixtures.ts';

/**
 * omnilink.port_emit_event_requests (20261121002100): a group of POST
 * /events requests in one call must give each request what it would get
 * alone, run one after another in the order given.
 */

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
});
afterAll(() => db?.drop());

interface Request {
  key_id: string;
  secret_sha256: string;
  events: Record<string, unknown>[];
}

const request = (key: IssuedKey, events: Record<string, unknown>[]): Request => ({
  key_id: key.keyId,
  secret_sha256: sha256Hex(secretOf(key.apiKey)),
  events,
});
const event = (idempotencyKey: string, extra: Record<string, unknown> = {}) => ({
  type: 'lead_ingested',
  idempotency_key: idempotencyKey,
  ...extra,
});

async function emitGroup(requests: Request[]): Promise<Record<string, unknown>[]> {
  const [row] =
    await sql`select omnilink.port_emit_event_requests(${sql.json(requests as never)}) as r`;
  return row!.r as Record<string, unknown>[];
}

async function emitAlone(r: Request): Promise<Record<string, unknown>> {
  const [row] = await sql`
    select omnilink.port_emit_events(${r.key_id}, ${r.secret_sha256}, ${sql.json(r.events as never)}) as r`;
  return row!.r as Record<string, unknown>;
}

/** An outcome with ids and the run's prefix taken out, and each id replaced by which key it belongs to. */
function shape(outcome: Record<string, unknown>, prefix: string): unknown {
  return JSON.parse(
    JSON.stringify(outcome)
      .replaceAll(prefix, '')
      .replace(/"id":"[0-9a-f-]{36}"/g, '"id":"…"'),
  );
}

describe('a group of event requests', () => {
  it('gives every request the outcome it gets when the same requests run one by one', async () => {
    const a1 = await issueKey(sql, { tenant: 'acme', source: 'lead-gen' });
    const a2 = await issueKey(sql, { tenant: 'acme', source: 'apex-sales' });
    const b = await issueKey(sql, { tenant: 'globex', source: 'lead-gen' });
    const revoked = await issueKey(sql, { tenant: 'acme', source: 'lead-gen' });
    await sql`update api_keys set revoked_at = now() where key_id = ${revoked.keyId}`;
    const noScope = await issueKey(sql, {
      tenant: 'acme',
      source: 'lead-gen',
      scopes: ['tasks:claim'],
    });
    const requests = (p: string): Request[] => [
      request(b, [event(`${p}k1`)]),
      request(a1, [event(`${p}k1`), event(`${p}k2`), event(`${p}k1`)]),
      request(a2, [event(`${p}k1`)]), // another integration: its own keys
      request(a1, [event(`${p}k2`), event(`${p}k3`)]), // k2 was made by the request before
      { ...request(a1, [event(`${p}k4`)]), secret_sha256: sha256Hex('wrong') },
      request(revoked, [event(`${p}k5`)]),
      request(noScope, [event(`${p}k6`)]),
      request(a1, [event(`${p}k7`), event(`${p}k8`, { source: 'apex-sales' })]),
      request(a1, [event(`${p}k7`)]), // the refused request above stored nothing
      request(b, [event(`${p}k1`)]),
    ];
    const grouped = await emitGroup(requests('g-'));
    const alone = [];
    for (const r of requests('s-')) alone.push(await emitAlone(r));

    expect(grouped.map((outcome) => shape(outcome, 'g-'))).toEqual(
      alone.map((outcome) => shape(outcome, 's-')),
    );
    // What that is, spelled out for the first requests.
    expect(
      grouped.slice(0, 4).map((o) => (o.results as { status: string }[]).map((r) => r.status)),
    ).toEqual([
      ['created'],
      ['created', 'created', 'duplicate'],
      ['created'],
      ['duplicate', 'created'],
    ]);
    expect(grouped.slice(4, 8).map((o) => o.error)).toEqual([
      'unauthorized',
      'unauthorized',
      'permission_denied',
      'permission_denied',
    ]);
    // The ids a duplicate names are those of the rows its key made.
    const rows = await sql`
      select integration_id, idempotency_key, id::text from telemetry_events where idempotency_key like 'g-%'`;
    const idOf = new Map(
      rows.map((row) => [`${row.integration_id} ${row.idempotency_key}`, row.id]),
    );
    expect(rows).toHaveLength(6);
    expect((grouped[3]!.results as { id: string }[])[0]!.id).toBe(
      idOf.get(`${a1.integrationId} g-k2`),
    );
    expect((grouped[9]!.results as { id: string }[])[0]!.id).toBe(
      idOf.get(`${b.integrationId} g-k1`),
    );
  });

  it('admits the earliest requests of a key up to its rate limit; the rest store nothing', async () => {
    const limited = await issueKey(sql, { tenant: 'acme', source: 'lead-gen', maxRpm: 3 });
    const free = await issueKey(sql, { tenant: 'acme', source: 'apex-sales' });
    const outcomes = await emitGroup([
      request(limited, [event('rl-1')]),
      request(free, [event('rl-free-1')]),
      request(limited, [event('rl-2'), event('rl-3')]),
      request(limited, [event('rl-4')]),
      request(limited, [event('rl-5')]),
      request(free, [event('rl-free-2')]),
      request(limited, [event('rl-6')]),
    ]);
    expect(outcomes.map((outcome) => outcome.error ?? 'stored')).toEqual([
      'stored',
      'stored',
      'stored',
      'stored',
      'rate_limited',
      'stored',
      'rate_limited',
    ]);
    expect(outcomes[4]).toEqual({
      error: 'rate_limited',
      message: 'This API key may make 3 requests per minute; wait before sending more.',
      retry_after_seconds: expect.any(Number),
    });
    expect(outcomes[4]!.retry_after_seconds).toBeGreaterThanOrEqual(1);
    expect(outcomes[4]!.retry_after_seconds).toBeLessThanOrEqual(60);
    const stored = await sql`
      select idempotency_key from telemetry_events where idempotency_key like 'rl-%' order by 1`;
    expect(stored.map((row) => row.idempotency_key)).toEqual([
      'rl-1',
      'rl-2',
      'rl-3',
      'rl-4',
      'rl-free-1',
      'rl-free-2',
    ]);
    const [window] = await sql`
      select w.request_count from omnilink.api_key_rate_windows w
      join api_keys k on k.id = w.api_key_id where k.key_id = ${limited.keyId}`;
    expect(window!.request_count).toBe(3);
    // The window is spent for requests alone too.
    expect(await emitAlone(request(limited, [event('rl-7')]))).toMatchObject({
      error: 'rate_limited',
    });
  });

  it('never deadlocks when groups at once hold the same keys in opposite orders', async () => {
    const x = await issueKey(sql, { tenant: 'acme', source: 'lead-gen', maxRpm: 100_000 });
    const y = await issueKey(sql, { tenant: 'globex', source: 'lead-gen', maxRpm: 100_000 });
    const rounds = 40;
    const outcomes = await Promise.all(
      Array.from({ length: rounds }, (_, i) => [
        emitGroup([request(x, [event(`dl-${i}-a`)]), request(y, [event(`dl-${i}-a`)])]),
        emitGroup([request(y, [event(`dl-${i}-b`)]), request(x, [event(`dl-${i}-b`)])]),
      ]).flat(),
    );
    expect(outcomes.flat().every((outcome) => outcome.created === 1)).toBe(true);
    const [row] =
      await sql`select count(*)::int as n from telemetry_events where idempotency_key like 'dl-%'`;
    expect(row!.n).toBe(rounds * 4);
  });

  it('refuses a call that is not a list of requests, storing nothing', async () => {
    const [before] = await sql`select count(*)::int as n from telemetry_events`;
    await expect(
      sql`select omnilink.port_emit_event_requests(${sql.json({ key_id: 'x' })})`,
    ).rejects.toMatchObject({ code: '22023' });
    expect(await emitGroup([])).toEqual([]);
    const [after] = await sql`select count(*)::int as n from telemetry_events`;
    expect(after!.n).toBe(before!.n);
  });
});
