import type { Endpoint } from '@omnihub/contracts';
import { createMiddleware } from 'hono/factory';
import type { PortHonoEnv } from '../context.ts';
import { credentialFromHeader } from '../credentials.ts';

/**
 * Reads the API key for an endpoint that needs one. Only the format is
 * checked here; whether the key exists, is live and holds one of the
 * endpoint's scopes is decided in the same SQL call as the operation.
 */
export function apiKey(endpoint: Endpoint) {
  return createMiddleware<PortHonoEnv>(async (c, next) => {
    c.set('key', await credentialFromHeader(c.req.header('authorization')));
    c.set('scopes', endpoint.scopes ?? []);
    await next();
  });
}
