import { Agent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { ERROR_STATUS, type ErrorCode } from '@omnihub/contracts';

/**
 * Raw HTTP to the port, with node:http rather than fetch: bodies go out as
 * the exact bytes given (invalid UTF-8, no content type at all, chunked
 * without a length), and header values as the exact Latin-1 bytes given.
 */
export interface RawRequest {
  method: string;
  /** Appended to the port's base URL as is (already percent-encoded where wanted). */
  path: string;
  headers: Record<string, string | string[]>;
  /**
   * A string is sent as UTF-8 with a content-length; `chunks` are sent with
   * chunked transfer encoding and no length, so the port only learns the
   * size by reading.
   */
  body?: string | Uint8Array | { chunks: Uint8Array[] };
  /**
   * A connection of its own, closed after the answer. For bodies the port may
   * refuse before reading them (over 1 MiB): @hono/node-server then drains
   * and destroys the socket up to 500 ms later, and a request that reused it
   * meanwhile would fail with "other side closed" through no fault of its own.
   */
  ownConnection?: boolean;
}

export interface RawAnswer {
  /** 0 when no HTTP answer came (the connection failed). */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Set when no answer came. */
  networkError?: string;
}

/** Keep-alive connections shared by the requests that do not need their own. */
export function createAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

export function sendRaw(baseUrl: string, agent: Agent, request: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const headers: OutgoingHttpHeaders = { ...request.headers };
  const body = request.body;
  if (typeof body === 'string') headers['content-length'] = Buffer.byteLength(body);
  else if (body instanceof Uint8Array) headers['content-length'] = body.byteLength;
  else if (body) headers['transfer-encoding'] = 'chunked';
  if (request.ownConnection) headers.connection = 'close';

  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: RawAnswer) => {
      if (!settled) {
        settled = true;
        resolve(answer);
      }
    };
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: `${url.pathname}${request.path}`,
        headers,
        agent: request.ownConnection ? false : agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          settle({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error) =>
          settle({ status: 0, headers: {}, text: '', networkError: error.message }),
        );
      },
    );
    // A server may answer (413) and close before the whole body is written:
    // the write error that follows is expected, and the answer is what counts.
    req.on('error', (error) =>
      setImmediate(() => settle({ status: 0, headers: {}, text: '', networkError: error.message })),
    );
    if (body === undefined) req.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
    else {
      for (const chunk of body.chunks) req.write(chunk);
      req.end();
    }
  });
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

export interface ErrorAnswer {
  error: string;
  message: string;
  [field: string]: unknown;
}

/**
 * What the contract says every error answer is: a status below 500 here,
 * JSON `{error, message, …}` whose code goes with the status, an
 * x-request-id, and WWW-Authenticate on 401. Returns the problems (empty
 * when it conforms) and the parsed body.
 */
export function checkErrorAnswer(
  answer: RawAnswer,
  expectedStatuses: readonly number[],
): { problems: string[]; body?: ErrorAnswer } {
  const problems: string[] = [];
  if (answer.networkError) return { problems: [`no answer: ${answer.networkError}`] };
  if (answer.status >= 500) problems.push(`a ${answer.status} (server error)`);
  if (!expectedStatuses.includes(answer.status)) {
    problems.push(`status ${answer.status}, expected ${expectedStatuses.join(' or ')}`);
  }
  if (!answer.headers['x-request-id']) problems.push('no x-request-id header');
  let body: ErrorAnswer | undefined;
  try {
    body = JSON.parse(answer.text) as ErrorAnswer;
  } catch {
    problems.push('the body is not JSON');
    return { problems };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    problems.push('the body is not a JSON object');
    return { problems };
  }
  if (typeof body.error !== 'string' || typeof body.message !== 'string') {
    problems.push('the body lacks a string "error" and "message"');
  } else if (ERROR_STATUS[body.error as ErrorCode] !== answer.status) {
    problems.push(`error "${body.error}" does not go with status ${answer.status}`);
  }
  if (answer.status === 401 && answer.headers['www-authenticate'] !== 'Bearer') {
    problems.push('a 401 without "WWW-Authenticate: Bearer"');
  }
  return { problems, body };
}

/** The request as text for a failure message: enough to send it again by hand. */
export function describeRequest(request: RawRequest, secrets: readonly string[] = []): string {
  const mask = (text: string) =>
    secrets.reduce((out, secret) => out.split(secret).join('<secret>'), text);
  const headers = Object.entries(request.headers)
    .map(([name, value]) => `${name}: ${mask(clip(String(value), 200))}`)
    .join('; ');
  return `${request.method} ${clip(request.path, 300)}${request.ownConnection ? ' (own connection)' : ''}\n    headers: ${headers || '(none)'}\n    body: ${describeBody(request.body)}`;
}

function describeBody(body: RawRequest['body']): string {
  if (body === undefined) return '(none)';
  if (typeof body === 'string') {
    return `${Buffer.byteLength(body)} bytes of text: ${JSON.stringify(clip(body, 400))}`;
  }
  const bytes =
    body instanceof Uint8Array ? body : Buffer.concat(body.chunks.map((c) => Buffer.from(c)));
  const kind = body instanceof Uint8Array ? 'bytes' : `bytes in ${body.chunks.length} chunks`;
  return `${bytes.byteLength} ${kind}: hex ${Buffer.from(bytes.subarray(0, 48)).toString('hex')}${bytes.byteLength > 48 ? '…' : ''}, as text ${JSON.stringify(clip(Buffer.from(bytes).toString('utf8'), 300))}`;
}

export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = Math.min(60, Math.floor(max / 4));
  return `${text.slice(0, max - tail)}…[${text.length - max} more chars]…${text.slice(-tail)}`;
}
