// A DOM test on happy-dom, set up by ./happy-dom-page.ts rather than by
// Vitest's happy-dom environment: the real local stack runs in this process,
// and that environment swaps Node's fetch, URL and Request for happy-dom's.
import './happy-dom-page.ts';
import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createQueryClient } from '../../src/app/query-client.ts';
import { DataError } from '../../src/data/errors.ts';
import type { Role } from '../../src/data/memberships/memberships-query.ts';
import { TenantRealtimeProvider, useLiveStatus } from '../../src/data/realtime/tenant-realtime.tsx';
import type { TaskRow } from '../../src/data/tasks/types.ts';
import {
  TaskEndedError,
  useAgentTask,
  type AgentTaskInput,
  type UseAgentTaskOptions,
} from '../../src/hooks/useAgentTask.ts';
import { BackendProvider } from '../../src/supabase-context.tsx';
import { TenantProvider } from '../../src/tenant/tenant-context.tsx';

let t: TestStack;
let apex: IssuedKey;
const clients: SupabaseClient[] = [];

beforeAll(async () => {
  t = await startTestStack();
  apex = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
});
afterEach(async () => {
  cleanup();
  for (const client of clients.splice(0)) await client.removeAllChannels();
});
afterAll(() => t?.close());

/** A worker of apex-sales, through the port: claims what is ready, then completes `taskId`. */
async function port(path: string, body: unknown) {
  const response = await fetch(`${t.stack.portUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apex.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { tasks?: TaskRow[] };
}

const claim = (workerId: string) => port('/tasks/claim', { worker_id: workerId, max_tasks: 10 });
const complete = (taskId: string, workerId: string, body: Record<string, unknown>) =>
  port(`/tasks/${taskId}/complete`, { worker_id: workerId, ...body });

/**
 * useAgentTask as OmniDash runs it: the signed-in user's supabase-js, the
 * app's query client, the tenant and its one Realtime channel. Resolves once
 * the channel is live. `statuses` records every status the hook reported.
 */
async function renderAgentTask(role: Role, options: UseAgentTaskOptions = {}) {
  const user = await t.createUser({ tenantId: apex.tenantId, role });
  const supabase = await t.supabaseAs(await t.accessToken(user));
  clients.push(supabase);
  const queryClient: QueryClient = createQueryClient();
  const membership = { tenantId: apex.tenantId, slug: 'acme', name: 'Acme', role };
  const wrapper = ({ children }: { children: ReactNode }) => (
    <BackendProvider backend={{ supabase, portUrl: t.stack.portUrl }}>
      <QueryClientProvider client={queryClient}>
        <TenantProvider membership={membership}>
          <TenantRealtimeProvider tenantId={apex.tenantId}>{children}</TenantRealtimeProvider>
        </TenantProvider>
      </QueryClientProvider>
    </BackendProvider>
  );
  const statuses: string[] = [];
  const rendered = renderHook(
    () => {
      const agent = useAgentTask(options);
      const status = agent.currentTask?.status;
      if (status && statuses.at(-1) !== status) statuses.push(status);
      return { ...agent, live: useLiveStatus() };
    },
    { wrapper },
  );
  await waitFor(() => expect(rendered.result.current.live).toBe('live'), { timeout: 10_000 });
  return { ...rendered, statuses, queryClient };
}

const echo = (message: string): AgentTaskInput => ({
  target: 'apex-sales',
  action: 'echo',
  payload: { message },
});

describe('useAgentTask', () => {
  it('submits a task and follows it live to succeeded, then calls onComplete once', async () => {
    const completed: TaskRow[] = [];
    const errors: Error[] = [];
    const { result, statuses } = await renderAgentTask('operator', {
      onComplete: (task) => completed.push(task),
      onError: (error) => errors.push(error),
    });
    expect(result.current).toMatchObject({
      isSubmitting: false,
      isProcessing: false,
      currentTask: null,
      error: null,
    });

    let submitted: Promise<TaskRow | null>;
    act(() => {
      submitted = result.current.submitTask(echo('hello'));
    });
    expect(result.current.isSubmitting).toBe(true);
    const created = await act(() => submitted);
    expect(created).toMatchObject({ status: 'queued', action: 'echo', target: 'apex-sales' });
    expect(result.current).toMatchObject({ isSubmitting: false, isProcessing: true });
    expect(result.current.currentTask?.id).toBe(created!.id);

    // The worker takes it: the hook hears of it over Realtime (nothing polls while live).
    expect((await claim('hook-worker')).tasks!.map((task) => task.id)).toContain(created!.id);
    await waitFor(() => expect(result.current.currentTask?.status).toBe('running'));
    expect(result.current.isProcessing).toBe(true);

    await complete(created!.id, 'hook-worker', {
      status: 'succeeded',
      output: { message: 'hello' },
    });
    await waitFor(() => expect(result.current.currentTask?.status).toBe('succeeded'));
    expect(result.current).toMatchObject({ isProcessing: false, error: null });
    expect(result.current.currentTask).toMatchObject({ output: { message: 'hello' }, attempts: 1 });
    expect(statuses).toEqual(['queued', 'running', 'succeeded']);
    await waitFor(() => expect(completed).toHaveLength(1));
    expect(completed[0]).toMatchObject({ id: created!.id, status: 'succeeded' });
    expect(errors).toEqual([]);
  });

  it('reports a task that fails through onError, with the task and its error', async () => {
    const failures: [Error, TaskRow | null][] = [];
    const { result } = await renderAgentTask('operator', {
      onError: (error, task) => failures.push([error, task]),
    });
    let created: TaskRow | null = null;
    await act(async () => {
      created = await result.current.submitTask({ ...echo('fail me'), max_attempts: 1 });
    });
    await claim('hook-worker-2');
    await complete(created!.id, 'hook-worker-2', { status: 'failed', error: 'the line was busy' });
    await waitFor(() => expect(result.current.currentTask?.status).toBe('failed'));
    expect(result.current.isProcessing).toBe(false);
    expect(result.current.error).toBeInstanceOf(TaskEndedError);
    expect(result.current.error?.message).toBe('The task failed: the line was busy');
    await waitFor(() => expect(failures).toHaveLength(1));
    expect(failures[0]![1]).toMatchObject({ id: created!.id, status: 'failed' });
    expect((failures[0]![0] as TaskEndedError).task.id).toBe(created!.id);
  });

  it('follows a task waiting for approval, and reports its cancel elsewhere as an error', async () => {
    const failures: Error[] = [];
    const { result } = await renderAgentTask('operator', {
      onError: (error) => failures.push(error),
    });
    let created: TaskRow | null = null;
    await act(async () => {
      created = await result.current.submitTask({ ...echo('approve me'), require_approval: true });
    });
    expect(result.current.currentTask?.status).toBe('waiting_approval');
    expect(result.current.isProcessing).toBe(true);
    // Someone else cancels it, from another session.
    const colleague = await t.createUser({ tenantId: apex.tenantId, role: 'operator' });
    const supabase = await t.supabaseAs(await t.accessToken(colleague));
    clients.push(supabase);
    const { error } = await supabase.rpc('cancel_task', {
      p_task_id: created!.id,
      p_reason: 'not now',
    });
    expect(error).toBeNull();
    await waitFor(() => expect(result.current.currentTask?.status).toBe('canceled'));
    expect(result.current.error?.message).toBe('The task was canceled (canceled: not now).');
    await waitFor(() => expect(failures).toHaveLength(1));
  });

  it('reports a refused submit (a viewer) with the server’s message, and follows nothing', async () => {
    const failures: [Error, TaskRow | null][] = [];
    const { result } = await renderAgentTask('viewer', {
      onError: (error, task) => failures.push([error, task]),
    });
    let answer: TaskRow | null | undefined;
    await act(async () => {
      answer = await result.current.submitTask(echo('viewer'));
    });
    expect(answer).toBeNull();
    expect(result.current).toMatchObject({
      isSubmitting: false,
      isProcessing: false,
      currentTask: null,
    });
    expect(result.current.error).toBeInstanceOf(DataError);
    expect(result.current.error?.message).toBe(
      'This action needs the operator role in this tenant; you are viewer.',
    );
    expect(failures).toEqual([[result.current.error, null]]);
    const [row] = await t.db
      .sql`select count(*)::int as n from public.tasks where params -> 'payload' ->> 'message' = 'viewer'`;
    expect(row!.n).toBe(0);
  });

  it('refuses input the contract refuses before sending it', async () => {
    const { result } = await renderAgentTask('operator');
    await act(async () => {
      await result.current.submitTask({ ...echo('x'), priority: 11 });
    });
    expect(result.current.error?.message).toBe('priority must be from 1 to 10');
    expect(result.current.currentTask).toBeNull();
  });

  it('forgets the task and the error on reset, and follows only the latest submit', async () => {
    const { result } = await renderAgentTask('operator');
    let first: TaskRow | null = null;
    let second: TaskRow | null = null;
    await act(async () => {
      first = await result.current.submitTask(echo('first'));
    });
    await act(async () => {
      second = await result.current.submitTask(echo('second'));
    });
    expect(result.current.currentTask?.id).toBe(second!.id);
    expect(first!.id).not.toBe(second!.id);
    act(() => result.current.reset());
    expect(result.current).toMatchObject({ currentTask: null, error: null, isProcessing: false });
  });
});
