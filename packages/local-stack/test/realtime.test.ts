import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type {
  RealtimeChannel,
  RealtimePostgresChangesPayload,
  SupabaseClient,
} from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect as netConnect } from 'node:net';
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
      // Values as Postgres renders them in JSON (what PostgREST returns): times to the microsecond.
      const [stored] = await t.db.sql`
        select to_jsonb(e) as row from public.telemetry_events e where id = ${id}`;
      expect(change!.new).toEqual(stored!.row);
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

/** A raw Realtime socket (vsn 1.0.0 objects unless told), for what supabase-js would never send. */
async function rawSocket(vsn: '1.0.0' | '2.0.0' = '1.0.0', apikey = t.stack.anonKey) {
  const socket = new WebSocket(
    `${t.stack.apiUrl.replace('http', 'ws')}/realtime/v1/websocket?apikey=${apikey}&vsn=${vsn}`,
  );
  const frames: any[] = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    frames.push(
      Array.isArray(frame)
        ? { join_ref: frame[0], ref: frame[1], topic: frame[2], event: frame[3], payload: frame[4] }
        : frame,
    );
  });
  await new Promise((resolve) => socket.once('open', resolve));
  return {
    frames,
    sendText: (text: string) => socket.send(text),
    send: (frame: {
      topic: string;
      event: string;
      payload: unknown;
      ref: string;
      join_ref?: string;
    }) =>
      socket.send(
        JSON.stringify(
          vsn === '2.0.0'
            ? [frame.join_ref ?? null, frame.ref, frame.topic, frame.event, frame.payload]
            : { join_ref: null, ...frame },
        ),
      ),
    next: (predicate: (frame: any) => boolean) =>
      expect
        .poll(() => frames.find(predicate), { timeout: 5_000 })
        .toBeTruthy()
        .then(() => frames.find(predicate)),
    close: () => socket.close(),
  };
}

/** Answers the raw upgrade request `head` gets on the stack's port (what a non-browser client could send). */
function rawUpgrade(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(t.stack.apiUrl);
    const socket = netConnect(Number(url.port), url.hostname, () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      ),
    );
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('Realtime under malformed input and races', () => {
  it.each(['1.0.0', '2.0.0'] as const)(
    'ignores frames without a string topic or event, and keeps serving (vsn %s)',
    async (vsn) => {
      const raw = await rawSocket(vsn);
      const join = { config: { postgres_changes: [{ event: '*', schema: 'public' }] } };
      raw.sendText(JSON.stringify([null, '1', 5, 'phx_join', join]));
      raw.sendText(JSON.stringify({ topic: { x: 1 }, event: 'phx_join', payload: join, ref: '2' }));
      raw.sendText(JSON.stringify({ topic: 'realtime:x', event: null, payload: {}, ref: '3' }));
      raw.sendText('not json at all');
      raw.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '4' });
      expect(await raw.next((f) => f.ref === '4')).toMatchObject({
        event: 'phx_reply',
        payload: { status: 'ok' },
      });
      // Nothing was answered for the unreadable frames.
      expect(raw.frames.map((f) => f.ref)).toEqual(['4']);
      raw.close();
      expect((await fetch(`${t.stack.portUrl}/health`)).status).toBe(200);
    },
  );

  it('answers an unreadable or foreign upgrade path with 400 or 404, and keeps serving', async () => {
    expect(await rawUpgrade('//[')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await rawUpgrade('/rest/v1/tasks')).toMatch(/^HTTP\/1\.1 404 /);
    const raw = await rawSocket();
    raw.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '1' });
    expect(await raw.next((f) => f.ref === '1')).toMatchObject({ payload: { status: 'ok' } });
    raw.close();
  });

  it('applies an access_token sent while the join is still being checked after the join', async () => {
    const acmeToken = await t.accessToken(
      await t.createUser({ tenantId: acme.tenantId, role: 'viewer' }),
    );
    const globexToken = await t.accessToken(
      await t.createUser({ tenantId: globex.tenantId, role: 'viewer' }),
    );
    const raw = await rawSocket();
    const topic = 'realtime:switch';
    // Back to back: the update arrives while the join's token is being verified.
    raw.send({
      topic,
      event: 'phx_join',
      payload: {
        config: {
          postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'telemetry_events' }],
        },
        access_token: acmeToken,
      },
      ref: '1',
      join_ref: '1',
    });
    raw.send({
      topic,
      event: 'access_token',
      payload: { access_token: globexToken },
      ref: '2',
      join_ref: '1',
    });
    expect((await raw.next((f) => f.ref === '1')).payload.status).toBe('ok');
    expect((await raw.next((f) => f.ref === '2')).payload.status).toBe('ok');

    // Changes arrive in commit order: by the time globex's event is here, acme's was decided.
    await sendEvent(acme, 'switch-acme');
    const globexId = await sendEvent(globex, 'switch-globex');
    const delivered = await raw.next((f) => f.event === 'postgres_changes');
    expect(delivered.payload.data.record.id).toBe(globexId);
    expect(raw.frames.filter((f) => f.event === 'postgres_changes')).toHaveLength(1);
    raw.close();
  });

  it('closes a channel whose access_token update is invalid, instead of keeping the old token', async () => {
    const token = await t.accessToken(
      await t.createUser({ tenantId: acme.tenantId, role: 'viewer' }),
    );
    const raw = await rawSocket('2.0.0');
    const topic = 'realtime:bad-update';
    raw.send({
      topic,
      event: 'phx_join',
      payload: {
        config: {
          postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'telemetry_events' }],
        },
        access_token: token,
      },
      ref: '1',
      join_ref: '1',
    });
    expect((await raw.next((f) => f.ref === '1')).payload.status).toBe('ok');
    raw.send({
      topic,
      event: 'access_token',
      payload: { access_token: 'not.a.jwt' },
      ref: '2',
      join_ref: '1',
    });
    expect((await raw.next((f) => f.ref === '2')).payload).toMatchObject({ status: 'error' });
    expect(await raw.next((f) => f.event === 'phx_close')).toMatchObject({ topic });

    // Closed: a change it would have been shown earlier no longer comes.
    await sendEvent(acme, 'after-bad-update');
    const marker = await rawSocket('2.0.0');
    marker.send({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '9' });
    await marker.next((f) => f.ref === '9');
    expect(raw.frames.filter((f) => f.event === 'postgres_changes')).toEqual([]);
    raw.close();
    marker.close();
  });

  it('sends DELETEs only to roles that may read the table: not to anon', async () => {
    // Joined first, so its delivery is decided before the member's (channels are served in join order).
    const anon = await rawSocket();
    anon.send({
      topic: 'realtime:anon-deletes',
      event: 'phx_join',
      payload: {
        config: { postgres_changes: [{ event: 'DELETE', schema: 'public', table: 'tasks' }] },
      },
      ref: '1',
      join_ref: '1',
    });
    expect((await anon.next((f) => f.ref === '1')).payload.status).toBe('ok');
    const member = await memberClient(acme.tenantId);
    const { received } = await listen(member, { event: 'DELETE', table: 'tasks' });

    const { task } = await port(acme, '/tasks', { target: 'apex-sales', action: 'doomed-anon' });
    await t.db.sql`delete from tasks where id = ${task.id}`;
    await expect.poll(() => received.map((c) => (c.old as Row).id)).toContain(task.id);
    expect(anon.frames.filter((f) => f.event === 'postgres_changes')).toEqual([]);
    anon.close();
  });
});
