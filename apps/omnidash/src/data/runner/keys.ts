/** What a page of the dead-letters list shows: the URL's target filter and the page number (from 0). */
export interface DeadLetterListParams {
  target: string | null;
  page: number;
}

export const runnerKeys = {
  /** Everything the runner and dead-letters screens cache for the tenant. */
  all: (tenantId: string) => ['tenants', tenantId, 'runner'] as const,
  /** Stats, pause and limits of every target (public.runner_stats). */
  stats: (tenantId: string) => [...runnerKeys.all(tenantId), 'stats'] as const,
  /** Every page of the dead-letters list, whatever its filter. */
  deadLetterLists: (tenantId: string) => [...runnerKeys.all(tenantId), 'dead-letters'] as const,
  deadLetterList: (tenantId: string, params: DeadLetterListParams) =>
    [...runnerKeys.deadLetterLists(tenantId), params] as const,
};
