import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectDatabase,
  freePort,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
  type Sql,
} from '@omnihub/database';
import { issueKey, type IssuedKey } from '@omnihub/database/testing';
import {
  createClient,
  type RealtimePostgresChangesPayload,
  type SupabaseClient,
} from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fullTransactionId, visibleInSnapshot } from '../src/realtime/visibility.ts';
import { startLocalStack, type LocalStack } from '../src/stack.ts';

type Row = Record<string, any>;

describe('whether a transaction is visible in a snapshot', () => {
  const EPOCH = 2n ** 32n;

  it('places a 32-bit xid in the epoch nearest to the snapshot', () => {
    expect(fullTransactionId(5, EPOCH + 10n)).toBe(EPOCH + 5n);
    // Just before the wrap, seen from just after it: the previous epoch.
    expect(fullTransactionId(2 ** 32 - 3, EPOCH + 10n)).toBe(EPOCH - 3n);
    // Just after the wrap, seen from just before it (a transaction newer than xmax): the next one.
    expect(fullTransactionId(7, EPOCH - 2n)).toBe(EPOCH + 7n);
    expect(fullTransactionId(740, 740n)).toBe(740n);
  });

  it('is pg_visible_in_snapshot: ended before xmin, or below xmax and not running', () => {
    expect(visibleInSnapshot(740, '740:740:')).toBe(false);
    expect(visibleInSnapshot(739, '740:740:')).toBe(true);
    expect(visibleInSnapshot(99, '100:200:150,160')).toBe(true);
    expect(visibleInSnapshot(150, '100:200:150,160')).toBe(false);
    expect(visibleInSnapshot(155, '100:200:150,160')).toBe(true);
    expect(visibleInSnapshot(200, '100:200:150,160')).toBe(false);
    // Across the wrap: 4294967295 runs, 2 (epoch 1) has ended, 9 (epoch 1) is not yet below xmax.
    const acrossWrap = `${EPOCH - 6n}:${EPOCH + 4n}:${EPOCH - 1n}`;
    expect(visibleInSnapshot(2 ** 32 - 1, acrossWrap)).toBe(false);
    expect(visibleInSnapshot(2, acrossWrap)).toBe(true);
    expect(visibleInSnapshot(9, acrossWrap)).toBe(false);
    expect(() => visibleInSnapshot(1, 'nonsense')).toThrow(/unreadable snapshot/);
  });
});

/**
 * Logical decoding streams a transaction once its commit record is flushed,
 * a moment before other sessions see the commit. On this cluster of its own,
 * a session that asks for synchronous commit waits after the flush for a
 * standby that never connects: its transaction is streamed and stays
 * invisible until the wait is cancelled. The moment is made to last.
 */
describe('Realtime with a change streamed before its commit is visible', () => {
  const dirs: string[] = [];
  let pg: EmbeddedPostgresHandle | undefined;
  let stack: LocalStack | undefined;
  let sql: Sql;
  let acme: IssuedKey;
  let globex: IssuedKey;
  const clients: SupabaseClient[] = [];

  beforeAll(async () => {
    const tempDir = async () => {
      dirs.push(await mkdtemp(join(tmpdir(), 'omnihub-realtime-visibility-')));
      return dirs.at(-1)!;
    };
    pg = await startEmbeddedPostgres({
      // Its own temporary dir: as root, Postgres runs as another user, who must be able to enter it.
      dataDir: await tempDir(),
      port: await freePort(),
      settings: {
        fsync: 'off',
        full_page_writes: 'off',
        synchronous_standby_names: 'omnihub_standby_that_never_connects',
        // Nothing waits for it but the sessions that ask.
        synchronous_commit: 'local',
      },
    });
    stack = await startLocalStack({
      dataDir: await tempDir(),
      port: await freePort(),
      databaseUrl: pg.url,
      log: () => {},
    });
    sql = connectDatabase(pg.url, { max: 4, applicationName: 'visibility-test' });
    acme = await issueKey(sql, { tenant: 'acme', source: 'apex-sales' });
    globex = await issueKey(sql, { tenant: 'globex', source: 'apex-sales' });
  });
  afterAll(async () => {
    try {
      for (const client of clients.splice(0)) await client.removeAllChannels();
      await sql?.end({ timeout: 2 });
      await stack?.stop();
    } finally {
      await pg?.stop();
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    }
  });

  /** A viewer of `tenantId` with supabase-js, subscribed to telemetry_events INSERTs (no filter: RLS decides). */
  async function subscriber(tenantId: string) {
    const [user] = await sql`
      insert into auth.users (email, encrypted_password, email_confirmed_at)
      values (${`viewer-${crypto.randomUUID()}@example.test`}, 'not-used', now())
      returning id, email`;
    await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenantId}, ${user!.id}, 'viewer')`;
    const { token } = await stack!.jwt.signAccessToken(
      { id: user!.id as string, email: user!.email as string },
      crypto.randomUUID(),
    );
    const client = createClient(stack!.apiUrl, stack!.anonKey, {
      accessToken: async () => token,
      realtime: { transport: WebSocket as never },
    });
    clients.push(client);
    await client.realtime.setAuth(token);
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      client
        .channel(`visibility-${crypto.randomUUID()}`)
        .on(
          'postgres_changes' as never,
          { event: 'INSERT', schema: 'public', table: 'telemetry_events' },
          (payload: RealtimePostgresChangesPayload<Row>) =>
            received.push((payload.new as Row).idempotency_key),
        )
        .subscribe((status, error) => {
          if (status === 'SUBSCRIBED') resolve();
          else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT')
            reject(error ?? new Error(status));
        });
    });
    return received;
  }

  const insertEvent = (db: Sql, key: IssuedKey, idempotencyKey: string) => db`
    insert into public.telemetry_events (tenant_id, integration_id, source, type, idempotency_key)
    values (${key.tenantId}, ${key.integrationId}, ${key.source}, 'visibility_probe', ${idempotencyKey})`;

  /** Commits an insert that is flushed and streamed but not visible until release(). */
  async function heldInsert(key: IssuedKey, idempotencyKey: string) {
    const writer = connectDatabase(pg!.url, { max: 1, applicationName: 'held-writer' });
    const [session] = await writer`select pg_backend_pid() as pid`;
    let xid = 0n;
    const committed = writer.begin(async (tx) => {
      await tx`set local synchronous_commit = on`;
      await insertEvent(tx as unknown as Sql, key, idempotencyKey);
      const [row] = await tx`select pg_current_xact_id()::text as xid`;
      xid = BigInt(row!.xid as string);
    });
    const release = async () => {
      // Cancelling the wait ends the commit: from then on every session sees it.
      await sql`select pg_cancel_backend(${session!.pid})`;
      await committed;
      await writer.end({ timeout: 2 });
    };
    try {
      await expect
        .poll(
          async () =>
            (await sql`select wait_event from pg_stat_activity where pid = ${session!.pid}`)[0]
              ?.wait_event,
        )
        .toBe('SyncRep');
    } catch (error) {
      await release();
      throw error;
    }
    return { xid: Number(xid % 2n ** 32n), release };
  }

  it('holds a change back until its commit is visible, the changes after it behind it, then delivers each to whom may read it', async () => {
    const acmeViewer = await subscriber(acme.tenantId);
    const globexViewer = await subscriber(globex.tenantId);

    const held = await heldInsert(acme, 'held');
    try {
      // Committed and streamed, yet no other session sees it.
      expect(
        await sql`select 1 from public.telemetry_events where idempotency_key = 'held'`,
      ).toEqual([]);
      // Visible at once, and after it in commit order.
      await insertEvent(sql, acme, 'acme-after-held');
      await insertEvent(sql, globex, 'globex-after-held');
      // Either the server waits for the held commit, or it has decided without it and gone on.
      await expect
        .poll(
          () =>
            stack!.realtime.waitingFor() === held.xid ||
            acmeViewer.length > 0 ||
            globexViewer.length > 0,
        )
        .toBe(true);
      expect({ acmeViewer, globexViewer }).toEqual({ acmeViewer: [], globexViewer: [] });
      expect(stack!.realtime.waitingFor()).toBe(held.xid);
    } finally {
      await held.release();
    }

    await expect.poll(() => acmeViewer).toEqual(['held', 'acme-after-held']);
    // Decided once visible: acme's row, held or not, never reaches globex's viewer.
    await expect.poll(() => globexViewer).toEqual(['globex-after-held']);
    expect(acmeViewer).toEqual(['held', 'acme-after-held']);
    expect(stack!.realtime.waitingFor()).toBeNull();
  });
});
