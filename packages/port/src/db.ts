import type {
  CompleteTasksResponse,
  StatsResponse,
  Task,
  WhoAmIResponse,
} from '@omnihub/contracts';
import type postgres from 'postgres';
import type { ApiKeyCredential } from './credentials.ts';
import type { SqlRefusal } from './errors.ts';
import { RequestGroups } from './request-groups.ts';

export type Sql = postgres.Sql;
type Json = postgres.JSONValue;

/** What one SQL function call returns: its result, or the contract refusal it decided on. */
export type Outcome<T> = T | SqlRefusal;

export interface EmitEventsResult {
  created: number;
  duplicates: number;
  results: { idempotency_key: string; status: 'created' | 'duplicate'; id: string }[];
}

/** GET /metrics: the numbers of the key's whole tenant, as omnilink.port_metrics returns them. */
export interface TenantMetrics {
  /** Every status of every target the tenant has (tasks, integration or task_targets row), zeros included. */
  tasks: { target: string; status: string; count: number }[];
  events: { source: string; type: string; count: number }[];
  /** Every integration's source, zeros included. */
  workers_online: { source: string; count: number }[];
  /** Only targets with a ready task. */
  oldest_ready_age_seconds: { target: string; seconds: number }[];
}

export interface ClaimRound {
  tasks: Task[];
  tenant_id: string;
  source: string;
  /** When a delayed task becomes due or a lease expires, whichever is first. */
  next_check_at: string | null;
}

export interface ClaimArgs {
  workerId: string;
  maxTasks: number;
  leaseSeconds: number;
  actions: string[] | null;
}

export interface CompleteArgs {
  workerId: string;
  attempt: number | null;
  status: 'succeeded' | 'failed';
  output: unknown;
  outputTruncated: boolean;
  error: string | null;
  retryable: boolean;
}

/** One completion of POST /tasks/complete as omnilink.port_complete_tasks reads it. */
export interface BatchCompletion {
  task_id: string;
  attempt: number | null;
  status: 'succeeded' | 'failed';
  output: unknown;
  output_truncated: boolean;
  error: string | null;
  retryable: boolean;
}

/** One POST /events request as omnilink.port_emit_event_requests reads it. */
interface EventRequest {
  key_id: string;
  secret_sha256: string;
  events: unknown[];
}

/**
 * Weighed in events. Single events queue behind one running call and go
 * together (on the event-ingest benchmark one call at a time did better
 * than two); from 100 waiting events a call runs beside it, up to 4, so
 * batches keep Postgres's cores busy. Up to 1,000 events a group (two full
 * batches), so a group stays one quick statement.
 */
const EVENT_REQUEST_GROUPS = {
  overlapWeight: 100,
  maxRunning: 4,
  maxWeight: 1_000,
  weigh: (request: EventRequest) => request.events.length,
};

/**
 * A text[] literal. postgres.js's own array parameters are unreliable on a
 * connection's first query (it serialises them before it has loaded the
 * array types), so arrays go over as quoted literals cast in SQL.
 */
export function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * The port's database calls: one SQL round trip each, every one of them
 * running the key checks and the operation in a single plpgsql function.
 */
export function createPortDatabase(sql: Sql) {
  async function call<T>(query: postgres.PendingQuery<postgres.Row[]>): Promise<Outcome<T>> {
    const rows = await query;
    return rows[0]!.r as Outcome<T>;
  }
  const json = (value: unknown) => sql.json(value as Json);
  // POST /events requests arriving together share one call and one commit.
  const eventRequests = new RequestGroups<EventRequest, Outcome<EmitEventsResult>>(
    async (requests) => {
      const [row] = await sql`select omnilink.port_emit_event_requests(${json(requests)}) as r`;
      return row!.r as Outcome<EmitEventsResult>[];
    },
    EVENT_REQUEST_GROUPS,
  );

  return {
    authorize: (key: ApiKeyCredential, scopes: readonly string[]) =>
      call<{ tenant_id: string; source: string }>(
        sql`select omnilink.port_authorize(${key.keyId}, ${key.secretSha256}, ${textArrayLiteral(scopes)}::text[]) as r`,
      ),

    emitEvents: (key: ApiKeyCredential, events: unknown[]) =>
      eventRequests.submit({ key_id: key.keyId, secret_sha256: key.secretSha256, events }),

    createTask: (key: ApiKeyCredential, spec: Record<string, unknown>) =>
      call<{ status: 'created' | 'duplicate'; task: Task }>(
        sql`select omnilink.port_create_task(${key.keyId}, ${key.secretSha256}, ${json(spec)}) as r`,
      ),

    claimTasks: (key: ApiKeyCredential, args: ClaimArgs, firstPoll: boolean) =>
      call<ClaimRound>(
        sql`select omnilink.port_claim_tasks(
          ${key.keyId}, ${key.secretSha256}, ${args.workerId}, ${args.maxTasks}, ${args.leaseSeconds},
          ${args.actions ? textArrayLiteral(args.actions) : null}::text[], ${firstPoll}
        ) as r`,
      ),

    /** Hands back tasks a claim took for a caller that hung up before the answer left. */
    releaseClaim: (key: ApiKeyCredential, workerId: string, taskIds: string[]) =>
      call<{ released: number }>(
        sql`select omnilink.port_release_claim(
          ${key.keyId}, ${key.secretSha256}, ${workerId}, ${textArrayLiteral(taskIds)}::uuid[]
        ) as r`,
      ),

    heartbeat: (
      key: ApiKeyCredential,
      taskId: string,
      args: {
        workerId: string;
        attempt: number | null;
        leaseSeconds: number | null;
        progress: unknown;
      },
    ) =>
      call<{ lease_expires_at: string }>(
        sql`select omnilink.port_heartbeat(
          ${key.keyId}, ${key.secretSha256}, ${taskId}, ${args.workerId}, ${args.attempt}::integer,
          ${args.leaseSeconds}::integer, ${args.progress === undefined ? null : json(args.progress)}::jsonb
        ) as r`,
      ),

    completeTask: (key: ApiKeyCredential, taskId: string, args: CompleteArgs) =>
      call<{ task: Task }>(
        sql`select omnilink.port_complete_task(
          ${key.keyId}, ${key.secretSha256}, ${taskId}, ${args.workerId}, ${args.attempt}::integer, ${args.status},
          ${args.output === null ? null : json(args.output)}::jsonb, ${args.outputTruncated}, ${args.error}::text,
          ${args.retryable}
        ) as r`,
      ),

    /** `completions` as port_complete_tasks takes them: outputs already bounded, errors cut. */
    completeTasks: (key: ApiKeyCredential, workerId: string, completions: BatchCompletion[]) =>
      call<CompleteTasksResponse>(
        sql`select omnilink.port_complete_tasks(
          ${key.keyId}, ${key.secretSha256}, ${workerId}, ${json(completions)}
        ) as r`,
      ),

    whoami: (key: ApiKeyCredential) =>
      call<WhoAmIResponse>(
        sql`select omnilink.port_whoami(${key.keyId}, ${key.secretSha256}) as r`,
      ),

    stats: (key: ApiKeyCredential) =>
      call<StatsResponse>(sql`select omnilink.port_stats(${key.keyId}, ${key.secretSha256}) as r`),

    metrics: (key: ApiKeyCredential) =>
      call<TenantMetrics>(
        sql`select omnilink.port_metrics(${key.keyId}, ${key.secretSha256}) as r`,
      ),

    getTask: (key: ApiKeyCredential, taskId: string) =>
      call<{ task: Task }>(
        sql`select omnilink.port_get_task(${key.keyId}, ${key.secretSha256}, ${taskId}) as r`,
      ),
  };
}

export type PortDatabase = ReturnType<typeof createPortDatabase>;
