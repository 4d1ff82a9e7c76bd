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
