import { ENDPOINTS, ErrorResponse } from '@omnihub/contracts';
import { snapshotCounts, type IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortApp } from '../src/index.ts';
import { PortClient, startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let key: IssuedKey;

beforeAll(async () => {
  h = await startPortHarness();
  key = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
});
afterAll(() => h.close());

const event = { type: 'lead_ingested', idempotency_key: 'auth-test' };

function expectUnauthorized(response: { status: number; headers: Headers; body: unknown }) {
  expect(response.status).toBe(401);
  expect(ErrorResponse.parse(response.body).error).toBe('unauthorized');
  expect(response.headers.get('www-authenticate')).toBe('Bearer');
}

describe('API key authentication', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a Basic scheme', 'Basic dXNlcjpwYXNz'],
    ['a key without the omni prefix', `Bearer key.${'a'.repeat(40)}`],
    ['a key id with capitals', `Bearer omni.ABC123.${'a'.repeat(40)}`],
    ['a secret shorter than 32 characters', 'Bearer omni.abc123.short'],
    ['an unknown key id', `Bearer omni.doesnotexist.${'a'.repeat(43)}`],
  ])('refuses %s with 401 and WWW-Authenticate: Bearer', async (_name, authorization) => {
    const response = await h.port.request('POST', '/events', {
      body: event,
      headers: authorization ? { authorization } : {},
    });
    expectUnauthorized(response);
  });

  it('refuses the right key id with a tampered secret', async () => {
    const [, keyId, secret] = key.apiKey.split('.');
    const tampered = `omni.${keyId}.${secret!.slice(0, -1)}${secret!.endsWith('A') ? 'B' : 'A'}`;
    expectUnauthorized(await h.port.post('/events', tampered, event));
  });

  it('answers 401 before 400: a bad key with a bad body is unauthorized', async () => {
    const response = await h.port.request('POST', '/events', {
      key: `omni.doesnotexist.${'a'.repeat(43)}`,
      rawBody: '{not json',
    });
    expectUnauthorized(response);
  });

  it('answers 401 before 404: a bad key with a malformed task id is unauthorized', async () => {
    expectUnauthorized(
      await h.port.get('/tasks/not-a-uuid', `omni.doesnotexist.${'a'.repeat(43)}`),
    );
  });

  it('refuses a revoked key on its very next request', async () => {
    const doomed = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
    expect(
      (await h.port.post('/events', doomed.apiKey, { ...event, idempotency_key: 'r1' })).status,
    ).toBe(201);
    await h.db.sql`select omnilink.revoke_api_key(${doomed.keyId})`;
    const before = await snapshotCounts(h.db.sql);
    const response = await h.port.post('/events', doomed.apiKey, {
      ...event,
      idempotency_key: 'r2',
    });
    expectUnauthorized(response);
    expect(response.body.message).toMatch(/revoked/);
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });

  it('refuses an expired key on its very next request', async () => {
    const expiring = await h.issueKey({
      tenant: 'acme',
      source: 'lead-gen',
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    expect(
      (await h.port.post('/events', expiring.apiKey, { ...event, idempotency_key: 'e1' })).status,
    ).toBe(201);
    await h.db
      .sql`update api_keys set expires_at = now() - interval '1 second' where key_id = ${expiring.keyId}`;
    const response = await h.port.post('/events', expiring.apiKey, {
      ...event,
      idempotency_key: 'e2',
    });
    expectUnauthorized(response);
    expect(response.body.message).toMatch(/expired/);
  });

  it('records when a key was last used', async () => {
    const fresh = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
    const [before] = await h.db
      .sql`select last_used_at from api_keys where key_id = ${fresh.keyId}`;
    expect(before!.last_used_at).toBeNull();
    await h.port.post('/events', fresh.apiKey, { ...event, idempotency_key: 'used' });
    const [after] = await h.db.sql`select last_used_at from api_keys where key_id = ${fresh.keyId}`;
    expect(after!.last_used_at).toBeInstanceOf(Date);
  });

  it('never writes the secret or the Authorization header to its logs', async () => {
    const lines: string[] = [];
    const app = createPortApp({ sql: h.db.sql, log: (entry) => lines.push(JSON.stringify(entry)) });
    const client = new PortClient(async (path, init) => app.request(`/omnilink-port${path}`, init));
    await client.post('/events', key.apiKey, { ...event, idempotency_key: 'log-1' });
    await client.post('/events', key.apiKey, { type: 'BAD' });
    await client.get(`/tasks/${crypto.randomUUID()}`, key.apiKey);
    const secret = key.apiKey.split('.')[2]!;
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line.toLowerCase()).not.toContain('bearer');
    }
    expect(lines.some((line) => line.includes(key.keyId))).toBe(true);
  });
});

describe('scopes', () => {
  const noScope = {
    'events:write': ['tasks:create', 'tasks:claim', 'tasks:complete'],
    'tasks:create': ['events:write', 'tasks:claim', 'tasks:complete'],
    'tasks:claim': ['events:write', 'tasks:create', 'tasks:complete'],
    'tasks:complete': ['events:write', 'tasks:create', 'tasks:claim'],
  } as const;

  async function runningTaskId(): Promise<string> {
    const full = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
    const created = await h.port.post('/tasks', full.apiKey, {
      target: 'lead-gen',
      action: 'echo',
    });
    await h.db
      .sql`update tasks set status = 'running', claimed_by = 'w', attempts = 1, lease_expires_at = now() + interval '5 minutes' where id = ${created.body.task.id}`;
    return created.body.task.id;
  }

  it.each<[string, keyof typeof noScope, string, Record<string, unknown>]>([
    ['POST /events', 'events:write', '/events', { type: 'x', idempotency_key: 'scope' }],
    ['POST /tasks', 'tasks:create', '/tasks', { target: 'lead-gen', action: 'x' }],
    ['POST /tasks/claim', 'tasks:claim', '/tasks/claim', { worker_id: 'w' }],
  ])(
    '%s refuses a key without %s with 403 and changes nothing',
    async (_route, scope, path, body) => {
      const limited = await h.issueKey({
        tenant: 'acme',
        source: 'lead-gen',
        scopes: [...noScope[scope]],
      });
      await h.port.post(
        '/tasks',
        (await h.issueKey({ tenant: 'acme', source: 'lead-gen' })).apiKey,
        { target: 'lead-gen', action: 'claimable' },
      );
      const before = await snapshotCounts(h.db.sql);
      const response = await h.port.post(path, limited.apiKey, body);
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ error: 'permission_denied', required_scope: scope });
      expect(await snapshotCounts(h.db.sql)).toEqual(before);
    },
  );

  it.each([
    ['heartbeat', 'tasks:claim'],
    ['complete', 'tasks:complete'],
  ] as const)(
    'POST /tasks/{id}/%s refuses a key without %s and leaves the task as it was',
    async (action, scope) => {
      const id = await runningTaskId();
      const limited = await h.issueKey({
        tenant: 'acme',
        source: 'lead-gen',
        scopes: [...noScope[scope]],
      });
      const before = await snapshotCounts(h.db.sql);
      const response = await h.port.post(`/tasks/${id}/${action}`, limited.apiKey, {
        worker_id: 'w',
        status: 'succeeded',
      });
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ error: 'permission_denied', required_scope: scope });
      expect(await snapshotCounts(h.db.sql)).toEqual(before);
    },
  );

  it('GET /tasks/{id} accepts any tasks:* scope and refuses an events-only key', async () => {
    const id = await runningTaskId();
    for (const scope of ['tasks:create', 'tasks:claim', 'tasks:complete'] as const) {
      const only = await h.issueKey({ tenant: 'acme', source: 'lead-gen', scopes: [scope] });
      expect((await h.port.get(`/tasks/${id}`, only.apiKey)).status).toBe(200);
    }
    const eventsOnly = await h.issueKey({
      tenant: 'acme',
      source: 'lead-gen',
      scopes: ['events:write'],
    });
    const refused = await h.port.get(`/tasks/${id}`, eventsOnly.apiKey);
    expect(refused.status).toBe(403);
    expect(refused.body.required_scope).toBe(ENDPOINTS.getTask.scopes.join(' or '));
  });

  it('answers 403 before 400: a key without the scope and a bad body gets permission_denied', async () => {
    const limited = await h.issueKey({
      tenant: 'acme',
      source: 'lead-gen',
      scopes: ['tasks:claim'],
    });
    const response = await h.port.post('/events', limited.apiKey, { type: 'NOT VALID' });
    expect(response.status).toBe(403);
  });
});
