import { z } from 'zod';

export const HealthResponse = z.object({
  status: z.literal('ok'),
  version: z.string(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

/** GET /openapi.json: an OpenAPI 3.1 document (described loosely: it describes itself). */
export const OpenApiDocumentResponse = z.looseObject({
  openapi: z.string(),
  paths: z.record(z.string(), z.unknown()),
});

/** GET /whoami: the presented key, so a setup check can say exactly what it may do. */
export const WhoAmIResponse = z.object({
  key_id: z.string(),
  /** The integration's source: the target this key claims tasks for. */
  source: z.string(),
  tenant: z.object({ id: z.uuid(), slug: z.string(), name: z.string() }),
  integration_id: z.uuid(),
  scopes: z.array(z.string()),
  max_rpm: z.int().nullable(),
  expires_at: z.string().nullable(),
});
export type WhoAmIResponse = z.infer<typeof WhoAmIResponse>;
