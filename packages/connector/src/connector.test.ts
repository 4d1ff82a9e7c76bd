import { describe, expect, it } from 'vitest';
import { OmniHubConnector } from './connector.ts';
import { OmniHubError } from './errors.ts';

const KEY = `omni.abc123.${'s'.repeat(40)}`;
const env = {
  OMNIHUB_BASE_URL: 'http://port.test/functions/v1',
  OMNIHUB_API_KEY: KEY,
  OMNIHUB_SOURCE: 'lead-gen',
  OMNIHUB_WORKER_ID: 'w1',
};

type Reply = Response | Error;
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const refusal = (status: number, error: string, extra: Record<string, unknown> = {}) =>
  json(status, { error, message: `${error} happened`, ...extra });
const created = () => json(201, { status: 'created', id: 'e1' });

/** A connector on scripted replies: records every request and every wait instead of waiting. */
function scripted(
  replies: Reply[],
  retry = { maxElapsedMs: 60_000, initialDelayMs: 100, maxDelayMs: 1_000 },
) {
  const requests: {
    url: string;
    method: string;
    body: string | undefined;
    authorization: string | null;
  }[] = [];
  const waits: number[] = [];
  const logs: string[] = [];
  const connector = new OmniHubConnector({
    env,
    retry,
    log: (line) => logs.push(line),
    sleep: async (ms) => {
      waits.push(ms);
    },
    fetch: (async (url: string, init: RequestInit) => {
      requests.push({
        url,
        method: init.method!,
        body: init.body as string | undefined,
        authorization: new Headers(init.headers).get('authorization'),
      });
      const reply = replies.shift();
      if (!reply) throw new Error('no scripted reply left');
      if (reply instanceof Error) throw reply;
      return reply;
    }) as typeof fetch,
  });
  return { connector, requests, waits, logs };
}

describe('OmniHubConnector requests', () => {
  it('sends the key as a Bearer token to the port path and parses the answer', async () => {
    const { connector, requests } = scripted([created()]);
    expect(await connector.emit({ type: 'lead_ingested', data: { lead_id: '1' } })).toEqual({
      status: 'created',
      id: 'e1',
    });
    expect(requests[0]).toMatchObject({
      url: 'http://port.test/functions/v1/omnilink-port/events',
      method: 'POST',
      authorization: `Bearer ${KEY}`,
    });
    const body = JSON.parse(requests[0]!.body!);
    expect(body).toMatchObject({
      type: 'lead_ingested',
      source: 'lead-gen',
      idempotency_key: expect.stringMatching(/^lead-gen:[0-9a-f-]{36}$/),
    });
  });

  it('sends no source when none is configured, leaving it to the key', async () => {
    const requests: string[] = [];
    const connector = new OmniHubConnector({
      env: { OMNIHUB_BASE_URL: env.OMNIHUB_BASE_URL, OMNIHUB_API_KEY: KEY },
      fetch: (async (_url: string, init: RequestInit) => {
        requests.push(init.body as string);
        return created();
      }) as typeof fetch,
    });
    await connector.emit({ type: 'x' });
    expect(JSON.parse(requests[0]!)).not.toHaveProperty('source');
  });

  it('checks a request locally and sends nothing when it breaks the contract', async () => {
    const { connector, requests } = scripted([]);
    const error = await connector.emit({ type: 'Not Valid' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OmniHubError);
    expect(error).toMatchObject({ code: 'invalid_request', status: 0 });
    expect((error as OmniHubError).body?.issues?.[0]?.path).toBe('type');
    expect(requests).toHaveLength(0);
  });

  it('refuses an answer that does not match the contract', async () => {
    const { connector } = scripted([json(200, { hello: 'world' })]);
    await expect(connector.health()).rejects.toThrow(/unexpected body/);
  });
});

describe('OmniHubConnector retries', () => {
  it('retries network errors, 5xx and 503 omnilink_disabled with growing jittered waits, resending the same bytes', async () => {
    const { connector, requests, waits, logs } = scripted([
      new TypeError('fetch failed'),
      refusal(500, 'internal'),
      refusal(503, 'omnilink_disabled'),
      json(502, 'bad gateway'),
      created(),
    ]);
    await connector.emit({ type: 'x' });
    expect(requests).toHaveLength(5);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    expect(waits).toHaveLength(4);
    // Equal jitter: retry n waits between half and all of min(max, initial * 2^n).
    waits.forEach((ms, n) => {
      const ceiling = Math.min(1_000, 100 * 2 ** n);
      expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
      expect(ms).toBeLessThanOrEqual(ceiling);
    });
    expect(logs.some((line) => line.includes('OmniLink is switched off (omnilink_disabled)'))).toBe(
      true,
    );
  });

  it('waits exactly retry_after_seconds after a 429', async () => {
    const { connector, waits } = scripted([
      refusal(429, 'rate_limited', { retry_after_seconds: 7 }),
      created(),
    ]);
    await connector.emit({ type: 'x' });
    expect(waits).toEqual([7_000]);
  });

  it.each([
    [400, 'invalid_request'],
    [401, 'unauthorized'],
    [403, 'permission_denied'],
    [404, 'not_found'],
    [409, 'lease_lost'],
    [413, 'payload_too_large'],
  ])('never retries %i %s and surfaces the contract’s code and message', async (status, code) => {
    const { connector, requests } = scripted([refusal(status, code)]);
    const error = (await connector
      .getTask('7f6c1b62-5a6f-4b8e-9a57-2d1f9c0e6a11')
      .catch((e: unknown) => e)) as OmniHubError;
    expect(error).toBeInstanceOf(OmniHubError);
    expect(error).toMatchObject({ code, status, message: `${code}: ${code} happened` });
    expect(requests).toHaveLength(1);
  });

  it('gives up with the last error once the next wait would pass maxElapsedMs', async () => {
    const { connector, requests } = scripted(
      Array.from({ length: 10 }, () => refusal(503, 'omnilink_disabled')),
      { maxElapsedMs: 0, initialDelayMs: 100, maxDelayMs: 100 },
    );
    await expect(connector.emit({ type: 'x' })).rejects.toMatchObject({
      code: 'omnilink_disabled',
    });
    expect(requests).toHaveLength(1);
  });

  it('gives up on a 429 whose wait would pass maxElapsedMs', async () => {
    const { connector } = scripted([refusal(429, 'rate_limited', { retry_after_seconds: 120 })], {
      maxElapsedMs: 60_000,
      initialDelayMs: 1,
      maxDelayMs: 1,
    });
    await expect(connector.emit({ type: 'x' })).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('stops at once when the caller aborts, during a wait or a request', async () => {
    const controller = new AbortController();
    const connector = new OmniHubConnector({
      env,
      log: () => {},
      fetch: (async () => refusal(503, 'omnilink_disabled')) as unknown as typeof fetch,
      sleep: (_ms, signal) =>
        new Promise((_, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason));
          controller.abort(new Error('caller gave up'));
        }),
    });
    await expect(connector.emit({ type: 'x' }, { signal: controller.signal })).rejects.toThrow(
      'caller gave up',
    );

    const hanging = new OmniHubConnector({
      env,
      fetch: ((_url: string, init: RequestInit) =>
        new Promise((_, reject) =>
          init.signal!.addEventListener('abort', () => reject(init.signal!.reason)),
        )) as typeof fetch,
    });
    const second = new AbortController();
    const call = hanging.health({ signal: second.signal });
    second.abort(new Error('stop now'));
    await expect(call).rejects.toThrow('stop now');
  });

  it('gives a created task an idempotency key kept across retries, and reports a duplicate only for the caller’s own key', async () => {
    const task = {
      id: '7f6c1b62-5a6f-4b8e-9a57-2d1f9c0e6a11',
      target: 'lead-gen',
      action: 'echo',
      params: { payload: {} },
      status: 'queued',
      priority: 5,
      run_at: null,
      require_approval: false,
      attempts: 0,
      max_attempts: 3,
      claimed_by: null,
      lease_expires_at: null,
      output: null,
      output_truncated: false,
      error: null,
      depends_on: [],
      progress: null,
      created_at: '2026-11-21T10:00:00Z',
      updated_at: '2026-11-21T10:00:00Z',
    };
    const { connector, requests } = scripted([
      new TypeError('fetch failed'),
      json(200, { status: 'duplicate', task }),
    ]);
    const result = await connector.createTask({ target: 'lead-gen', action: 'echo' });
    expect(result.duplicate).toBe(false);
    expect(JSON.parse(requests[0]!.body!).idempotency_key).toBe(
      JSON.parse(requests[1]!.body!).idempotency_key,
    );

    const own = scripted([json(200, { status: 'duplicate', task })]);
    expect(
      (
        await own.connector.createTask({
          target: 'lead-gen',
          action: 'echo',
          idempotency_key: 'mine',
        })
      ).duplicate,
    ).toBe(true);
  });
});

describe('OmniHubConnector transport edge cases', () => {
  it('reads a non-JSON 401 (a gateway in front of the port) as unauthorized and does not retry it', async () => {
    const { connector, requests } = scripted([
      new Response('<html>Invalid JWT</html>', { status: 401 }),
    ]);
    const error = (await connector.health().catch((e: unknown) => e)) as OmniHubError;
    expect(error).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(error.message).toMatch(/not from the OmniLink Port/);
    expect(requests).toHaveLength(1);
  });

  it('retries a 429 without retry_after_seconds with backoff', async () => {
    const { connector, waits } = scripted([new Response('slow down', { status: 429 }), created()]);
    await connector.emit({ type: 'x' });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeLessThanOrEqual(100);
  });

  it('treats a body that breaks off mid-read as no answer, and retries', async () => {
    const broken = new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"status":'));
          controller.error(new Error('socket hang up'));
        },
      }),
      { status: 201 },
    );
    const { connector, logs } = scripted([broken, created()]);
    expect(await connector.emit({ type: 'x' })).toEqual({ status: 'created', id: 'e1' });
    expect(logs[0]).toMatch(/no answer from .*socket hang up/);
  });

  it('encodes a worker id that a header cannot carry as is', async () => {
    const agents: string[] = [];
    const connector = new OmniHubConnector({
      env: { ...env, OMNIHUB_WORKER_ID: 'línea-ü-東京' },
      fetch: (async (_url: string, init: RequestInit) => {
        agents.push(new Headers(init.headers).get('user-agent')!);
        return created();
      }) as typeof fetch,
    });
    await connector.emit({ type: 'x' });
    expect(agents[0]).toContain(encodeURIComponent('línea-ü-東京'));
  });

  it('checks every event of a large batch before sending any, naming the bad one by its index', async () => {
    const { connector, requests } = scripted([]);
    const events = Array.from({ length: 600 }, (_, i) => ({ type: i === 549 ? 'Bad Type' : 'ok' }));
    const error = (await connector.emitBatch(events).catch((e: unknown) => e)) as OmniHubError;
    expect(error).toMatchObject({ code: 'invalid_request', status: 0 });
    expect(error.body?.issues?.[0]?.path).toBe('events.549.type');
    expect(requests).toHaveLength(0);
  });

  it('splits a batch by size as well as count, keeping every request under 1 MiB', async () => {
    const events = Array.from({ length: 150 }, (_, i) => ({
      type: 'big',
      idempotency_key: `b${i}`,
      data: { blob: 'x'.repeat(15_000) },
    }));
    const bodies: string[] = [];
    const connector = new OmniHubConnector({
      env,
      fetch: (async (_url: string, init: RequestInit) => {
        const body = JSON.parse(init.body as string) as { events: { idempotency_key: string }[] };
        bodies.push(init.body as string);
        return json(200, {
          created: body.events.length,
          duplicates: 0,
          results: body.events.map((e) => ({
            idempotency_key: e.idempotency_key,
            status: 'created',
            id: e.idempotency_key,
          })),
        });
      }) as typeof fetch,
    });
    const result = await connector.emitBatch(events);
    expect(result.created).toBe(150);
    expect(bodies.length).toBeGreaterThan(1);
    for (const body of bodies)
      expect(new TextEncoder().encode(body).byteLength).toBeLessThan(1024 * 1024);
    expect(result.results.map((r) => r.idempotency_key)).toEqual(
      events.map((e) => e.idempotency_key),
    );
  });
});
