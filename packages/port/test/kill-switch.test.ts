import { snapshotCounts, type IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortApp } from '../src/index.ts';
import { PortClient, startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let acme: IssuedKey;
let globex: IssuedKey;
let taskId: string;

beforeAll(async () => {
  h = await startPortHarness();
  acme = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
  globex = await h.issueKey({ tenant: 'globex', source: 'lead-gen' });
  const created = await h.port.post('/tasks', acme.apiKey, { target: 'lead-gen', action: 'echo' });
  taskId = created.body.task.id;
});
afterAll(() => h.close());

const routes = () =>
  [
    ['GET', '/health', undefined],
    ['GET', '/openapi.json', undefined],
    ['GET', '/no-such-route', undefined],
    ['POST', '/events', { type: 'x', idempotency_key: 'kill' }],
    ['POST', '/tasks', { target: 'lead-gen', action: 'x' }],
    ['POST', '/tasks/claim', { worker_id: 'w' }],
    ['POST', `/tasks/${taskId}/heartbeat`, { worker_id: 'w' }],
    ['POST', `/tasks/${taskId}/complete`, { worker_id: 'w', status: 'succeeded' }],
    ['GET', `/tasks/${taskId}`, undefined],
  ] as const;

describe('OMNILINK_ENABLED=false', () => {
  it('answers 503 omnilink_disabled on every route, even without a key, and changes nothing', async () => {
    const app = createPortApp({ sql: h.db.sql, env: { OMNILINK_ENABLED: 'false' }, log: () => {} });
    const client = new PortClient(async (path, init) => app.request(`/omnilink-port${path}`, init));
    const before = await snapshotCounts(h.db.sql);
    for (const [method, path, body] of routes()) {
      for (const key of [acme.apiKey, undefined]) {
        const response = await client.request(method, path, { key, body });
        expect(response.status, `${method} ${path}`).toBe(503);
        expect(response.body).toEqual({
          error: 'omnilink_disabled',
          message: expect.stringContaining('OMNILINK_ENABLED'),
        });
        expect(response.headers.get('x-request-id')).toBeTruthy();
      }
    }
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });

  it('does not touch the database at all', async () => {
    // A client whose every query fails: the switch must answer before any query.
    const brokenSql = new Proxy(h.db.sql, {
      apply: () => {
        throw new Error('the kill switch queried the database');
      },
    });
    const app = createPortApp({
      sql: brokenSql,
      env: { OMNILINK_ENABLED: 'false' },
      log: () => {},
    });
    const response = await app.request(`/omnilink-port/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme.apiKey}` },
      body: JSON.stringify({ type: 'x', idempotency_key: 'y' }),
    });
    expect(response.status).toBe(503);
  });

  it('refuses an unrecognised value instead of guessing', () => {
    expect(() => createPortApp({ sql: h.db.sql, env: { OMNILINK_ENABLED: 'flase' } })).toThrow(
      /OMNILINK_ENABLED/,
    );
  });
});

describe('the tenant switch', () => {
  it('answers 503 to that tenant’s keys on every authenticated route, serves other tenants, and changes nothing', async () => {
    await h.db
      .sql`update tenant_settings set omnilink_enabled = false where tenant_id = ${acme.tenantId}`;
    try {
      const before = await snapshotCounts(h.db.sql);
      for (const [method, path, body] of routes().slice(3)) {
        const response = await h.port.request(method, path, { key: acme.apiKey, body });
        expect(response.status, `${method} ${path}`).toBe(503);
        expect(response.body.error).toBe('omnilink_disabled');
      }
      expect(await snapshotCounts(h.db.sql)).toEqual(before);
      const other = await h.port.post('/events', globex.apiKey, {
        type: 'x',
        idempotency_key: 'still-on',
      });
      expect(other.status).toBe(201);
      expect((await h.port.get('/health')).status).toBe(200);
    } finally {
      await h.db
        .sql`update tenant_settings set omnilink_enabled = true where tenant_id = ${acme.tenantId}`;
    }
    const back = await h.port.post('/events', acme.apiKey, {
      type: 'x',
      idempotency_key: 'back-on',
    });
    expect(back.status).toBe(201);
  });

  it('is checked after the key and before the scope', async () => {
    const eventsOnly = await h.issueKey({
      tenant: 'acme',
      source: 'lead-gen',
      scopes: ['events:write'],
    });
    await h.db
      .sql`update tenant_settings set omnilink_enabled = false where tenant_id = ${acme.tenantId}`;
    try {
      const noScope = await h.port.post('/tasks/claim', eventsOnly.apiKey, { worker_id: 'w' });
      expect(noScope.status).toBe(503);
      const badKey = await h.port.post('/tasks/claim', `omni.unknownkey.${'x'.repeat(43)}`, {
        worker_id: 'w',
      });
      expect(badKey.status).toBe(401);
    } finally {
      await h.db
        .sql`update tenant_settings set omnilink_enabled = true where tenant_id = ${acme.tenantId}`;
    }
  });
});
