import { ENDPOINTS, buildOpenApiDocument } from '@omnihub/contracts';
import { Hono } from 'hono';
import type { PortDeps, PortHonoEnv } from '../context.ts';
import { isSqlRefusal, refusalToError } from '../errors.ts';
import { apiKey } from '../middleware/api-key.ts';

/** GET /health and GET /openapi.json (no key), and GET /whoami (any valid key). */
export function metaRoutes(deps: PortDeps) {
  const app = new Hono<PortHonoEnv>();
  // Built once: the document only depends on the schemas and the version.
  const document = buildOpenApiDocument({ version: deps.version });

  app.get(ENDPOINTS.health.path, (c) => c.json({ status: 'ok', version: deps.version }));

  app.get(ENDPOINTS.openapi.path, (c) => {
    // The server URL is whatever the caller reached us at, minus this path.
    const url = new URL(c.req.url);
    const serverUrl = `${url.origin}${url.pathname.slice(0, -ENDPOINTS.openapi.path.length)}`;
    return c.json({ ...document, servers: [{ url: serverUrl }] });
  });
  app.get(ENDPOINTS.whoami.path, apiKey(ENDPOINTS.whoami), async (c) => {
    const result = await deps.db.whoami(c.var.key);
    if (isSqlRefusal(result)) throw refusalToError(result);
    return c.json(result, 200);
  });
  return app;
}
