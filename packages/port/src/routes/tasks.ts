import {
  ClaimTasksRequestBody,
  CompleteTaskRequestBody,
  CompleteTasksRequestBody,
  CreateTaskRequestBody,
  ENDPOINTS,
  HeartbeatRequestBody,
  toStorableJson,
} from '@omnihub/contracts';
import { Hono } from 'hono';
import type { PortDeps, PortHonoEnv } from '../context.ts';
import { isSqlRefusal, refusalToError } from '../errors.ts';
import { apiKey } from '../middleware/api-key.ts';
import { jsonBody, taskIdParam } from '../middleware/request-input.ts';
import { boundTaskError, boundTaskOutput } from '../output.ts';

const MIN_RECHECK_GAP_MS = 50;

/** /tasks: create, claim (with long poll), heartbeat, complete (one or a batch), get. */
export function taskRoutes(deps: PortDeps) {
  const app = new Hono<PortHonoEnv>();
  const { db, signals } = deps;

  app.post(
    ENDPOINTS.createTask.path,
    apiKey(ENDPOINTS.createTask),
    jsonBody(deps, () => CreateTaskRequestBody),
    async (c) => {
      const result = await db.createTask(c.var.key, c.var.body);
      if (isSqlRefusal(result)) throw refusalToError(result);
      return result.status === 'duplicate'
        ? c.json({ status: 'duplicate', task: result.task }, 200)
        : c.json({ task: result.task }, 201);
    },
  );

  app.post(
    ENDPOINTS.claimTasks.path,
    apiKey(ENDPOINTS.claimTasks),
    jsonBody(deps, () => ClaimTasksRequestBody),
    async (c) => {
      const body = c.var.body;
      const args = {
        workerId: body.worker_id,
        maxTasks: body.max_tasks,
        leaseSeconds: body.lease_seconds,
        actions: body.actions ?? null,
      };
      const deadline = Date.now() + body.wait_ms;
      const aborted = c.req.raw.signal;
      // Long poll: each round is one SQL call; between rounds wait for a
      // notification for this tenant and target, the next due time, or the
      // poll interval. Only the first round counts against the rate limit.
      for (let firstPoll = true; ; firstPoll = false) {
        const since = signals.cursor();
        const round = await db.claimTasks(c.var.key, args, firstPoll);
        if (isSqlRefusal(round)) throw refusalToError(round);
        if (aborted.aborted && round.tasks.length > 0) {
          // The caller hung up while this round ran: nobody will receive these tasks.
          await db.releaseClaim(
            c.var.key,
            args.workerId,
            round.tasks.map((task) => task.id),
          );
          return c.json({ tasks: [] }, 200);
        }
        const now = Date.now();
        if (round.tasks.length > 0 || now >= deadline || aborted.aborted) {
          return c.json({ tasks: round.tasks }, 200);
        }
        const due = round.next_check_at ? Date.parse(round.next_check_at) : Infinity;
        // The gap keeps a port whose clock runs ahead of the database's from
        // re-checking in a tight loop while a "due" time is already past here.
        const recheckAt = Math.max(
          now + MIN_RECHECK_GAP_MS,
          Math.min(due, now + signals.pollIntervalMs),
        );
        await signals.wait(
          `${round.tenant_id} ${round.source}`,
          since,
          Math.min(deadline, recheckAt),
          aborted,
        );
        // A caller that hung up must not be handed (and leased) tasks it will never see.
        if (aborted.aborted) return c.json({ tasks: [] }, 200);
      }
    },
  );

  app.post(
    ENDPOINTS.heartbeat.path.replace('{id}', ':id'),
    apiKey(ENDPOINTS.heartbeat),
    taskIdParam(deps),
    jsonBody(deps, () => HeartbeatRequestBody),
    async (c) => {
      const body = c.var.body;
      const result = await db.heartbeat(c.var.key, c.var.taskId, {
        workerId: body.worker_id,
        attempt: body.attempt ?? null,
        leaseSeconds: body.lease_seconds ?? null,
        // Progress is the worker's report: made storable, never refused.
        progress: body.progress === undefined ? undefined : toStorableJson(body.progress),
      });
      if (isSqlRefusal(result)) throw refusalToError(result);
      return c.json(result, 200);
    },
  );

  app.post(
    ENDPOINTS.completeTask.path.replace('{id}', ':id'),
    apiKey(ENDPOINTS.completeTask),
    taskIdParam(deps),
    jsonBody(deps, () => CompleteTaskRequestBody),
    async (c) => {
      const body = c.var.body;
      const { output, truncated } = boundTaskOutput(body.output);
      const result = await db.completeTask(c.var.key, c.var.taskId, {
        workerId: body.worker_id,
        attempt: body.attempt ?? null,
        status: body.status,
        output,
        outputTruncated: truncated,
        error: boundTaskError(body.error),
        retryable: body.retryable,
      });
      if (isSqlRefusal(result)) throw refusalToError(result);
      return c.json(result, 200);
    },
  );

  app.post(
    ENDPOINTS.completeTasks.path,
    apiKey(ENDPOINTS.completeTasks),
    jsonBody(deps, () => CompleteTasksRequestBody),
    async (c) => {
      const body = c.var.body;
      const completions = body.completions.map((completion) => {
        const { output, truncated } = boundTaskOutput(completion.output);
        return {
          task_id: completion.task_id,
          attempt: completion.attempt ?? null,
          status: completion.status,
          output,
          output_truncated: truncated,
          error: boundTaskError(completion.error),
          retryable: completion.retryable,
        };
      });
      const result = await db.completeTasks(c.var.key, body.worker_id, completions);
      if (isSqlRefusal(result)) throw refusalToError(result);
      return c.json(result, 200);
    },
  );

  app.get(ENDPOINTS.stats.path, apiKey(ENDPOINTS.stats), async (c) => {
    const result = await db.stats(c.var.key);
    if (isSqlRefusal(result)) throw refusalToError(result);
    return c.json(result, 200);
  });

  app.get(
    ENDPOINTS.getTask.path.replace('{id}', ':id'),
    apiKey(ENDPOINTS.getTask),
    taskIdParam(deps),
    async (c) => {
      const result = await db.getTask(c.var.key, c.var.taskId);
      if (isSqlRefusal(result)) throw refusalToError(result);
      return c.json(result, 200);
    },
  );

  return app;
}
