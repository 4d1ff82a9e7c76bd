import { MAX_BODY_BYTES } from '@omnihub/contracts';
import { describe, expect, it } from 'vitest';
import { readJsonBody } from './body.ts';
import type { PortError } from './errors.ts';

const post = (body?: RequestInit['body'], headers?: RequestInit['headers']) =>
  new Request('http://x', { method: 'POST', body, headers });

async function problemOf(request: Request, limit?: number): Promise<PortError> {
  const read = await readJsonBody(request, limit);
  if (!('problem' in read))
    throw new Error(`expected a problem, read ${JSON.stringify(read.value)}`);
  return read.problem;
}

async function valueOf(request: Request, limit?: number): Promise<unknown> {
  const read = await readJsonBody(request, limit);
  if ('problem' in read) throw read.problem;
  return read.value;
}

/** A body that arrives in `count` chunks of `size` bytes of `x`, recording how far it was read. */
function chunkedStream(count: number, size: number) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled === count) return controller.close();
        state.pulled += 1;
        controller.enqueue(new TextEncoder().encode('x'.repeat(size)));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

describe('readJsonBody', () => {
  it.each([
    ['no body', undefined],
    ['an empty body', ''],
    ['a whitespace-only body', ' \n\t '],
  ])('reads %s as {}', async (_label, body) => {
    expect(await valueOf(post(body))).toEqual({});
  });

  it('reads a GET request without a body as {}', async () => {
    expect(await valueOf(new Request('http://x'))).toEqual({});
  });

  it.each([
    ['an object', '{"a":1,"b":[true,null]}', { a: 1, b: [true, null] }],
    ['an array', '[1,2]', [1, 2]],
    ['a scalar', '42', 42],
    ['JSON null', 'null', null],
    ['multi-byte text', '{"name":"Zoë 😀"}', { name: 'Zoë 😀' }],
  ])('parses %s', async (_label, body, expected) => {
    expect(await valueOf(post(body))).toEqual(expected);
  });

  it('ignores the content type', async () => {
    expect(await valueOf(post('{"a":1}', { 'content-type': 'text/plain' }))).toEqual({ a: 1 });
  });

  it('parses JSON that arrives in several chunks, even split inside a character', async () => {
    const bytes = new TextEncoder().encode('{"name":"Zoë 😀"}');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
        controller.close();
      },
    });
    const request = new Request('http://x', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(await valueOf(request)).toEqual({ name: 'Zoë 😀' });
  });

  it.each(['{"a":', '{a:1}', "{'a':1}", 'undefined', '{"a":1}}'])(
    'refuses malformed JSON %j as invalid_request with an issue at the body',
    async (body) => {
      const problem = await problemOf(post(body));
      expect(problem.code).toBe('invalid_request');
      expect(problem.message).toMatch(/^The request body is not valid JSON: /);
      expect(problem.extras.issues).toEqual([{ path: '', message: problem.message }]);
    },
  );

  it('refuses bytes that are not UTF-8 as invalid_request', async () => {
    const problem = await problemOf(
      post(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    );
    expect(problem.code).toBe('invalid_request');
    expect(problem.message).toBe('The request body is not valid UTF-8.');
    expect(problem.extras.issues).toEqual([
      { path: '', message: 'The request body is not valid UTF-8.' },
    ]);
  });

  it('refuses a truncated multi-byte character as invalid_request', async () => {
    const problem = await problemOf(post(new Uint8Array([0x22, 0xe2, 0x82])));
    expect(problem.code).toBe('invalid_request');
  });

  it('accepts a body of exactly the limit', async () => {
    expect(await valueOf(post('"12345678"'), 10)).toBe('12345678');
  });

  it('refuses a body one byte over the limit as payload_too_large', async () => {
    const problem = await problemOf(post('"123456789"'), 10);
    expect(problem.code).toBe('payload_too_large');
    expect(problem.status).toBe(413);
    expect(problem.message).toBe('The request body is over 10 bytes.');
  });

  it('counts the limit in bytes, not characters', async () => {
    // 4 characters, 10 bytes.
    expect(await valueOf(post('"€€"'), 8)).toBe('€€');
    expect((await problemOf(post('"€€"'), 7)).code).toBe('payload_too_large');
  });

  it('defaults the limit to 1 MiB', async () => {
    const justFits = `"${'a'.repeat(MAX_BODY_BYTES - 2)}"`;
    expect(await valueOf(post(justFits))).toHaveLength(MAX_BODY_BYTES - 2);
    expect((await problemOf(post(`${justFits} `))).code).toBe('payload_too_large');
  });

  it('refuses a declared content-length over the limit before reading the body', async () => {
    const { stream, state } = chunkedStream(1, 2);
    const request = new Request('http://x', {
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: { 'content-length': '11' },
    } as RequestInit);
    const problem = await problemOf(request, 10);
    expect(problem.code).toBe('payload_too_large');
    expect(state.pulled).toBe(0);
  });

  it('trusts the bytes, not a small content-length, for a body over the limit', async () => {
    const problem = await problemOf(post('"123456789"', { 'content-length': '2' }), 10);
    expect(problem.code).toBe('payload_too_large');
  });

  it('ignores a content-length that is not a number', async () => {
    expect(await valueOf(post('{"a":1}', { 'content-length': 'lots' }), 10)).toEqual({ a: 1 });
  });

  it('stops reading a streamed body once it passes the limit and cancels the stream', async () => {
    const { stream, state } = chunkedStream(1000, 10);
    const request = new Request('http://x', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const problem = await problemOf(request, 25);
    expect(problem.code).toBe('payload_too_large');
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(10);
  });
});
