import type { TaskStatus } from '@omnihub/contracts';

/** What a page of the task list shows: the URL's filters and the page number (from 0). */
export interface TaskListParams {
  status: TaskStatus | null;
  target: string | null;
  page: number;
}

export const taskKeys = {
  /** Everything cached about the tenant's tasks. */
  all: (tenantId: string) => ['tenants', tenantId, 'tasks'] as const,
  /** Every page of every filtered list. */
  lists: (tenantId: string) => [...taskKeys.all(tenantId), 'list'] as const,
  list: (tenantId: string, params: TaskListParams) =>
    [...taskKeys.lists(tenantId), params] as const,
  /** One task, as the detail view and useAgentTask follow it. */
  details: (tenantId: string) => [...taskKeys.all(tenantId), 'detail'] as const,
  detail: (tenantId: string, taskId: string) => [...taskKeys.details(tenantId), taskId] as const,
  /** A task's attempt history (task_attempts is not in the Realtime publication). */
  attempts: (tenantId: string, taskId: string) =>
    [...taskKeys.all(tenantId), 'attempts', taskId] as const,
  /** Every task's chain (public.task_chain): what it waits for and what waits for it. */
  chains: (tenantId: string) => [...taskKeys.all(tenantId), 'chain'] as const,
  chain: (tenantId: string, taskId: string) => [...taskKeys.chains(tenantId), taskId] as const,
};
