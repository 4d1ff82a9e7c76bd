import type { MiddlewareHandler } from 'hono';
import { checkApiKey } from '../api-key.ts';
import type { JwtKit } from '../jwt.ts';

/**
 * The gateway in front of GoTrue: no usable API key, no request. The answers
 * are the gateway's `{message, hint}`, not an auth error.
 */
export function apiKeyGate(jwt: JwtKit): MiddlewareHandler {
  return async (c, next) => {
    const check = await checkApiKey(jwt, c.req.header('apikey') ?? c.req.query('apikey'));
    if (!check.ok) return c.json(check.problem, 401);
    await next();
  };
}
