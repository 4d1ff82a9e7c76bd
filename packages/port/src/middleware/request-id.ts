import { createMiddleware } from 'hono/factory';
import type { PortHonoEnv, PortLogger } from '../context.ts';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's `x-request-id` when it sent a sane
 * one), returns it on every response, and logs one line per request.
 */
export function requestId(log: PortLogger) {
  return createMiddleware<PortHonoEnv>(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const id = incoming && CLIENT_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', id);
    const started = performance.now();
    await next();
    c.res.headers.set('x-request-id', id);
    log({
      level: 'info',
      msg: 'request',
      request_id: id,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      key_id: c.get('key')?.keyId,
    });
  });
}
