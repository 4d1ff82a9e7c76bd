import { connectDatabase, type Sql } from '@omnihub/database';
import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type {
  RealtimeChannel,
  RealtimePostgresChangesPayload,
  SupabaseClient,
} from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let t: TestStack;
let acme: IssuedKey;
let globex: IssuedKey;
const clients: SupabaseClient[] = [];

beforeAll(async () => {
  t = await startTestStack();
  acme = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
  globex = await t.issueKey({ tenant: 'globex', source: 'apex-sales' });
});
afterAll(async () => {
  for (const client of clients.splice(0)) await client.removeAllChannels();
  await t.close();
});

type Row = Record<string, any>;

/** A member of `tenantId` (own user, client and socket) subscribed to telemetry_events INSERTs. */
async function subscriber(tenantId: string, filter?: string) {
  const user = await t.createUser({ tenantId, role: 'viewer' });
  const client = await t.supabaseAs(await t.accessToken(user));
  clients.push(client);
  const received: Row[] = [];
  let channel!: RealtimeChannel;
  await new Promise<void>((resolve, reject) => {
    channel = client
      .channel(`delivery-${crypto.randomUUID()}`)
      .on(
        'postgres_changes' as never,
        { event: 'INSERT', schema: 'public', table: 'telemetry_events', filter },
        (payload: RealtimePostgresChangesPayload<Row>) => received.push(payload.new as Row),
      )
      .subscribe((status, error) => {
        if (status === 'SUBSCRIBED') resolve();
        else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT')
          reject(error ?? new Error(status));
      });
  });
  return { tenantId, received, channel };
}

async function insertEvent(sql: Sql, key: IssuedKey, idempotencyKey: string, data: Row) {
  await sql`
    insert into public.telemetry_events (tenant_id, integration_id, source, type, idempotency_key, data)
    values (${key.tenantId}, ${key.integrationId}, ${key.source}, 'delivery_probe', ${idempotencyKey}, ${sql.json(data)})`;
}

describe('Realtime delivery under concurrent commits', () => {
  it('delivers every row committed concurrently to every subscriber allowed to read it, exactly once, in commit order', async () => {
    const WRITERS = 4;
    const ROWS_PER_WRITER = 150;
    /** Every sixth row is globex's: the acme members must never get one, globex's member only those. */
    const tenantOf = (seq: number) => (seq % 6 === 5 ? globex : acme);

    const acmeSubscribers = [
      ...(await Promise.all([0, 1, 2].map(() => subscriber(acme.tenantId)))),
      ...(await Promise.all(
        [0, 1].map(() => subscriber(acme.tenantId, `tenant_id=eq.${acme.tenantId}`)),
      )),
    ];
    const globexSubscriber = await subscriber(globex.tenantId);

    // Each writer its own connection, one autocommitted insert after another: the
    // writers' commits interleave, each writer's own rows commit in sequence order.
    const writers = Array.from({ length: WRITERS }, (_, writer) =>
      connectDatabase(t.db.url, { max: 1, applicationName: `delivery-writer-${writer}` }),
    );
    try {
      // As `pnpm dev` commits (the test server's default is off): the commit record is
      // flushed, and so streamed, before the commit is visible to other sessions.
      await Promise.all(writers.map((sql) => sql`set synchronous_commit = on`));
      await Promise.all(
        writers.map(async (sql, writer) => {
          for (let seq = 0; seq < ROWS_PER_WRITER; seq++)
            await insertEvent(sql, tenantOf(seq), `w${writer}-${seq}`, { writer, seq });
        }),
      );
      // Committed after every row above: once a subscriber has its marker, every row before was decided.
      await insertEvent(writers[0]!, acme, 'marker-acme', { marker: true });
      await insertEvent(writers[0]!, globex, 'marker-globex', { marker: true });
    } finally {
      await Promise.all(writers.map((sql) => sql.end({ timeout: 2 })));
    }

    const isMarker = (row: Row) => row.data?.marker === true;
    for (const { received } of [...acmeSubscribers, globexSubscriber])
      await expect.poll(() => received.some(isMarker), { timeout: 60_000 }).toBe(true);

    const expected = (tenant: IssuedKey) =>
      Array.from({ length: WRITERS }, () =>
        Array.from({ length: ROWS_PER_WRITER }, (_, seq) => seq).filter(
          (seq) => tenantOf(seq) === tenant,
        ),
      );
    const perWriter = (rows: Row[]) =>
      Array.from({ length: WRITERS }, (_, writer) =>
        rows
          .filter((row) => !isMarker(row) && row.data.writer === writer)
          .map((row) => row.data.seq),
      );
    for (const { tenantId, received } of [...acmeSubscribers, globexSubscriber]) {
      const tenant = tenantId === acme.tenantId ? acme : globex;
      expect(received.every((row) => row.tenant_id === tenantId)).toBe(true);
      // Each writer's rows, in the order they committed, each once, none missing.
      expect(perWriter(received)).toEqual(expected(tenant));
      expect(received.filter(isMarker)).toHaveLength(1);
      expect(received.at(-1)!.idempotency_key).toBe(
        `marker-${tenant === acme ? 'acme' : 'globex'}`,
      );
    }
    // One commit order for everyone: the acme members got the same rows in the same order.
    const order = (rows: Row[]) => rows.map((row) => row.id);
    for (const { received } of acmeSubscribers.slice(1))
      expect(order(received)).toEqual(order(acmeSubscribers[0]!.received));
  }, 120_000);

  it('streams again after the replication connection is cut, and delivers later changes', async () => {
    const member = await subscriber(acme.tenantId);
    // This stack's walsender (other test files' stacks share the server, on their own databases).
    const walsender = async () =>
      (
        await t.db.sql`
          select a.pid from pg_catalog.pg_stat_activity a
          join pg_catalog.pg_stat_replication r using (pid)
          where a.datname = current_database() and a.application_name = 'omnihub-realtime'
            and r.state = 'streaming'`
      ).map((row) => row.pid as number);
    const [before] = await walsender();
    expect(before).toBeDefined();
    await t.db.sql`select pg_catalog.pg_terminate_backend(${before!})`;
    await expect
      .poll(async () => (await walsender()).filter((pid) => pid !== before), { timeout: 30_000 })
      .toHaveLength(1);
    await insertEvent(t.db.sql, acme, 'after-replication-cut', {});
    await expect
      .poll(() => member.received.map((row) => row.idempotency_key))
      .toContain('after-replication-cut');
  });
});
