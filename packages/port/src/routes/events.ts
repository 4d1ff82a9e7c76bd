import {
  ENDPOINTS,
  EmitEventBatchRequestBody,
  EmitEventRequestBody,
  isEventBatch,
} from '@omnihub/contracts';
import { Hono } from 'hono';
import type { PortDeps, PortHonoEnv } from '../context.ts';
import { isSqlRefusal, refusalToError } from '../errors.ts';
import { apiKey } from '../middleware/api-key.ts';
import { jsonBody } from '../middleware/request-input.ts';

/** POST /events: one event, or a batch of up to 500 (all-or-nothing on validation). */
export function eventRoutes(deps: PortDeps) {
  const app = new Hono<PortHonoEnv>();
  const endpoint = ENDPOINTS.emitEvents;

  app.post(
    endpoint.path,
    apiKey(endpoint),
    jsonBody(deps, (raw) => (isEventBatch(raw) ? EmitEventBatchRequestBody : EmitEventRequestBody)),
    async (c) => {
      const body = c.var.body;
      const batch = 'events' in body;
      const result = await deps.db.emitEvents(c.var.key, batch ? body.events : [body]);
      if (isSqlRefusal(result)) throw refusalToError(result);
      if (batch) return c.json(result, 200);
      const only = result.results[0]!;
      return c.json({ status: only.status, id: only.id }, only.status === 'created' ? 201 : 200);
    },
  );
  return app;
}
