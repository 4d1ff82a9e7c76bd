import { z } from 'zod';

/**
 * What an API key may do. The database's `api_keys.scopes` check constraint
 * holds the same list; a test keeps the two equal. `metrics:read` is for a
 * Prometheus scraper: GET /metrics (and GET /whoami) only.
 */
export const Scope = z.enum([
  'events:write',
  'tasks:create',
  'tasks:claim',
  'tasks:complete',
  'metrics:read',
]);
export type Scope = z.infer<typeof Scope>;

export const ALL_SCOPES: readonly Scope[] = Scope.options;
