import { ENDPOINTS, HealthResponse } from '@omnihub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;

beforeAll(async () => {
  h = await startPortHarness({ http: true });
});
afterAll(() => h.close());

describe('GET /health', () => {
  it('answers 200 with status ok and the port version, without a key', async () => {
    const response = await h.port.get('/health');
    expect(response.status).toBe(200);
    expect(HealthResponse.parse(response.body)).toEqual({
      status: 'ok',
      version: packageJson.version,
    });
  });

  it('lets a browser read it (CORS)', async () => {
    const response = await fetch(`${h.http!.server.baseUrl}/health`, {
      headers: { origin: 'http://localhost:5173' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id,retry-after');
  });

  it('answers a browser preflight for the headers agents send', async () => {
    const response = await fetch(`${h.http!.server.baseUrl}/events`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'authorization,content-type,x-request-id',
    );
  });
});

describe('GET /openapi.json', () => {
  it('serves the OpenAPI 3.1 document for every endpoint, with this server as its URL', async () => {
    const response = await h.http!.client.get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    expect(response.body.servers).toEqual([{ url: h.http!.server.baseUrl }]);
    for (const endpoint of Object.values(ENDPOINTS)) {
      expect(
        response.body.paths[endpoint.path]?.[endpoint.method],
        `${endpoint.method} ${endpoint.path}`,
      ).toBeDefined();
    }
  });
});

describe('every response', () => {
  it('carries an x-request-id, echoing a sane one from the caller', async () => {
    const generated = await h.port.get('/health');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await h.port.request('GET', '/health', {
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(echoed.headers.get('x-request-id')).toBe('trace-123');
    const refused = await h.port.request('GET', '/health', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(refused.headers.get('x-request-id')).not.toBe('bad id with spaces');
    const error = await h.port.post('/events', undefined, {});
    expect(error.status).toBe(401);
    expect(error.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers unknown routes with a JSON 404 not_found', async () => {
    const response = await h.port.get('/nope');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not_found', message: expect.any(String) });
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('answers an unexpected failure with 500 internal and the request id, without internals', async () => {
    const key = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
    // Break the database function under the port to force an unexpected error.
    await h.db
      .sql`alter function omnilink.port_get_task(text, text, uuid) rename to port_get_task_hidden`;
    try {
      const response = await h.port.get(`/tasks/${crypto.randomUUID()}`, key.apiKey);
      expect(response.status).toBe(500);
      expect(response.body).toEqual({
        error: 'internal',
        message: expect.any(String),
        request_id: response.headers.get('x-request-id'),
      });
      expect(JSON.stringify(response.body)).not.toMatch(/port_get_task|select|omnilink\./i);
    } finally {
      await h.db
        .sql`alter function omnilink.port_get_task_hidden(text, text, uuid) rename to port_get_task`;
    }
  });
});
