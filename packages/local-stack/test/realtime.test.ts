import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type {
  RealtimeChannel,
  RealtimePostgresChangesPayload,
  SupabaseClient,
} from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

let t: TestStack;
let acme: IssuedKey;
let globex: IssuedKey;
const clients: SupabaseClient[] = [];

beforeAll(async () => {
  t = await startTestStack();
  acme = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
  globex = await t.issueKey({ tenant: 'globex', source: 'apex-sales' });
});
afterAll(() => t.close());
afterEach(async () => {
  for (const client of clients.splice(0)) await client.removeAllChannels();
});

type Row = Record<string, any>;

async function memberClient(tenantId: string, vsn?: '1.0.0' | '2.0.0') {
  const user = await t.createUser({ tenantId, role: 'viewer' });
  const client = await t.supabaseAs(await t.accessToken(user), { vsn });
  clients.push(client);
  return client;
}

/** Subscribes and resolves once the server confirmed; `received` fills as changes arrive. */
async function listen(
  client: SupabaseClient,
  filter: { event: '*' | 'INSERT' | 'UPDATE' | 'DELETE'; table: string; filter?: string },
) {
  const received: RealtimePostgresChangesPayload<Row>[] = [];
  let subscribedCount = 0;
  let channel!: RealtimeChannel;
  await new Promise<void>((resolve, reject) => {
    channel = client
      .channel(`test-${crypto.randomUUID()}`)
      .on(
        'postgres_changes' as never,
        { schema: 'public', ...filter },
        (payload: RealtimePostgresChangesPayload<Row>) => received.push(payload),
      )
      .subscribe((status, error) => {
        if (status === 'SUBSCRIBED') {
          subscribedCount++;
          resolve();
        } else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
          reject(error ?? new Error(status));
        }
      });
  });
  return { received, channel, subscribed: () => subscribedCount };
}

async function sendEvent(key: IssuedKey, idempotencyKey: string) {
  const response = await fetch(`${t.stack.portUrl}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}` },
    body: JSON.stringify({
      type: 'lead_ingested',
      idempotency_key: idempotencyKey,
      data: { lead_id: idempotencyKey },
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function port(key: IssuedKey, path: string, body: unknown) {
  const response = await fetch(`${t.stack.portUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}` },
    body: JSON.stringify(body),
  });
  return (await response.json()) as any;
}

describe.each(['1.0.0', '2.0.0'] as const)(
  'Realtime postgres_changes with supabase-js (vsn %s)',
  (vsn) => {
    it('delivers an event sent through the port to a member subscribed to its tenant’s INSERTs', async () => {
      const client = await memberClient(acme.tenantId, vsn);
      const { received } = await listen(client, {
        event: 'INSERT',
        table: 'telemetry_events',
        filter: `tenant_id=eq.${acme.tenantId}`,
      });
      const id = await sendEvent(acme, `insert-${vsn}`);
      await expect.poll(() => received.length).toBe(1);
      const [change] = received;
      expect(change).toMatchObject({
        eventType: 'INSERT',
        schema: 'public',
        table: 'telemetry_events',
        errors: null,
        old: {},
      });
      expect(change!.new).toMatchObject({
        id,
        tenant_id: acme.tenantId,
        type: 'lead_ingested',
        source: 'apex-sales',
        data: { lead_id: `insert-${vsn}` },
      });
      expect(Date.parse(change!.commit_timestamp)).not.toBeNaN();
    });

    it('shows a task going queued → running → succeeded as a worker processes it', async () => {
      const client = await memberClient(acme.tenantId, vsn);
      const { received } = await listen(client, {
        event: '*',
        table: 'tasks',
        filter: `tenant_id=eq.${acme.tenantId}`,
      });
      const { task } = await port(acme, '/tasks', {
        target: 'apex-sales',
        action: 'echo',
        payload: { vsn },
      });
      await port(acme, '/tasks/claim', { worker_id: `w-${vsn}` });
      await port(acme, `/tasks/${task.id}/complete`, {
        worker_id: `w-${vsn}`,
        status: 'succeeded',
        output: { ok: true },
      });
      await expect
        .poll(() =>
          received
            .filter((c) => (c.new as Row).id === task.id)
            .map((c) => [c.eventType, (c.new as Row).status]),
        )
        .toEqual([
          ['INSERT', 'queued'],
          ['UPDATE', 'running'],
          ['UPDATE', 'succeeded'],
        ]);
      const done = received.at(-1)!;
      expect(done.new).toMatchObject({
        output: { ok: true },
        attempts: 1,
        depends_on: [],
        priority: 5,
      });
      expect(done.old).toEqual({ id: task.id });
    });
  },
);

describe('Realtime isolation', () => {
  it('delivers nothing of tenant A to a member of tenant B, even without a filter', async () => {
    const bClient = await memberClient(globex.tenantId);
    const { received } = await listen(bClient, { event: '*', table: 'telemetry_events' });
    await sendEvent(acme, 'a-secret-1');
    const own = await sendEvent(globex, 'b-own-1');
    // Changes arrive in commit order: once B's own event is here, A's would have come first.
    await expect.poll(() => received.length).toBeGreaterThanOrEqual(1);
    expect(received.map((c) => (c.new as Row).id)).toEqual([own]);
  });

  it('delivers nothing to a client without a user session (anon)', async () => {
    const anon = t.supabase();
    clients.push(anon);
    const { received } = await listen(anon, { event: '*', table: 'telemetry_events' });
    const member = await memberClient(acme.tenantId);
    const { received: memberReceived } = await listen(member, {
      event: 'INSERT',
      table: 'telemetry_events',
    });
    await sendEvent(acme, 'anon-probe-1');
    await expect.poll(() => memberReceived.length).toBe(1);
    expect(received).toEqual([]);
  });

  it('starts delivering when a channel joined as anon gets a user’s token', async () => {
    const user = await t.createUser({ tenantId: acme.tenantId, role: 'viewer' });
    const client = t.supabase();
    clients.push(client);
    const { received } = await listen(client, {
      event: 'INSERT',
      table: 'telemetry_events',
      filter: `tenant_id=eq.${acme.tenantId}`,
    });
    await client.realtime.setAuth(await t.accessToken(user));
    await expect
      .poll(async () => {
        await sendEvent(acme, `after-token-${crypto.randomUUID()}`);
        return received.length;
      })
      .toBeGreaterThanOrEqual(1);
  });
});

describe('Realtime bindings', () => {
  it('applies the binding’s filter operators', async () => {
    const client = await memberClient(acme.tenantId);
    const { received } = await listen(client, {
      event: 'INSERT',
      table: 'tasks',
      filter: 'priority=gt.7',
    });
    const { received: all } = await listen(client, {
      event: 'INSERT',
      table: 'tasks',
      filter: 'priority=in.(2,9)',
    });
    for (const priority of [2, 8, 9])
      await port(acme, '/tasks', { target: 'apex-sales', action: 'filtered', priority });
    await expect.poll(() => all.length).toBe(2);
    expect(received.map((c) => (c.new as Row).priority)).toEqual([8, 9]);
    expect(all.map((c) => (c.new as Row).priority)).toEqual([2, 9]);
  });

  it('sends a DELETE with the key of the removed row', async () => {
    const client = await memberClient(acme.tenantId);
    const { received } = await listen(client, { event: 'DELETE', table: 'tasks' });
    const { task } = await port(acme, '/tasks', { target: 'apex-sales', action: 'doomed' });
    await t.db.sql`delete from tasks where id = ${task.id}`;
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]).toMatchObject({ eventType: 'DELETE', old: { id: task.id }, new: {} });
  });

  it('refuses a table that is not published, naming it', async () => {
    const client = await memberClient(acme.tenantId);
    await expect(listen(client, { event: '*', table: 'api_keys' })).rejects.toThrow(
      /public\.api_keys is not in publication supabase_realtime/,
    );
  });
});

describe('Realtime connections', () => {
  it('reconnects after a dropped connection, resubscribes, and delivers again', async () => {
    const client = await memberClient(acme.tenantId);
    const subscription = await listen(client, {
      event: 'INSERT',
      table: 'telemetry_events',
      filter: `tenant_id=eq.${acme.tenantId}`,
    });
    t.stack.realtime.dropConnections();
    await expect.poll(() => subscription.subscribed(), { timeout: 15_000 }).toBe(2);
    const id = await sendEvent(acme, 'after-reconnect-1');
    await expect.poll(() => subscription.received.map((c) => (c.new as Row).id)).toContain(id);
  });

  it('speaks the Phoenix protocol: heartbeat replies, join reply with binding ids, system message, leave', async () => {
    const token = await t.accessToken(
      await t.createUser({ tenantId: acme.tenantId, role: 'viewer' }),
    );
    const socket = new WebSocket(
      `${t.stack.apiUrl.replace('http', 'ws')}/realtime/v1/websocket?apikey=${t.stack.anonKey}&vsn=1.0.0`,
    );
    const frames: any[] = [];
    const next = (predicate: (frame: any) => boolean) =>
      expect
        .poll(() => frames.find(predicate), { timeout: 5_000 })
        .toBeTruthy()
        .then(() => frames.find(predicate));
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    await new Promise((resolve) => socket.once('open', resolve));
    const send = (frame: unknown) => socket.send(JSON.stringify(frame));

    send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '1' });
    expect(await next((f) => f.ref === '1')).toEqual({
      topic: 'phoenix',
      event: 'phx_reply',
      payload: { status: 'ok', response: {} },
      ref: '1',
      join_ref: null,
    });

    const bindings = [
      {
        event: 'UPDATE',
        schema: 'public',
        table: 'tasks',
        filter: `tenant_id=eq.${acme.tenantId}`,
      },
    ];
    send({
      topic: 'realtime:raw',
      event: 'phx_join',
      payload: { config: { postgres_changes: bindings }, access_token: token },
      ref: '2',
      join_ref: '2',
    });
    const joined = await next((f) => f.ref === '2');
    expect(joined.payload.status).toBe('ok');
    expect(joined.payload.response.postgres_changes).toEqual([
      { ...bindings[0], id: expect.any(Number) },
    ]);
    expect(await next((f) => f.event === 'system')).toMatchObject({
      topic: 'realtime:raw',
      payload: { status: 'ok', extension: 'postgres_changes' },
    });

    send({ topic: 'realtime:raw', event: 'phx_leave', payload: {}, ref: '3', join_ref: '2' });
    expect((await next((f) => f.ref === '3')).payload.status).toBe('ok');
    expect(await next((f) => f.event === 'phx_close')).toMatchObject({ topic: 'realtime:raw' });
    socket.close();
  });

  it('refuses a connection without a valid API key, and a join with a bad token', async () => {
    const url = `${t.stack.apiUrl.replace('http', 'ws')}/realtime/v1/websocket?vsn=2.0.0`;
    const upgradeStatus = (apikey: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${url}&apikey=${apikey}`);
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('open', () => {
          socket.close();
          resolve(101);
        });
      });
    expect(await upgradeStatus('nonsense')).toBe(401);
    // A user's access token is a session, not one of the project's API keys.
    const user = await t.createUser({});
    expect(await upgradeStatus(await t.accessToken(user))).toBe(401);
    expect(await upgradeStatus(t.stack.anonKey)).toBe(101);

    const client = t.supabase();
    clients.push(client);
    await client.realtime.setAuth('not.a.jwt');
    await expect(listen(client, { event: '*', table: 'tasks' })).rejects.toThrow(/Invalid JWT/);
  });
});
