import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { workerKeys } from './keys.ts';

/** An agent worker process as the port last saw it (claims and heartbeats). */
export interface WorkerRow {
  id: string;
  source: string;
  worker_id: string;
  first_seen_at: string;
  last_seen_at: string;
  last_claim_at: string | null;
}

const COLUMNS = [
  'id',
  'source',
  'worker_id',
  'first_seen_at',
  'last_seen_at',
  'last_claim_at',
] as const;

/** The most workers the screen lists: the most recently seen first. */
export const WORKERS_LIMIT = 100;

/**
 * A worker is online when the port saw it within this long. A claim long-polls
 * at most 25 s and every claim or heartbeat refreshes last_seen_at (at most
 * every 5 s), so a live worker is never older than about 30 s.
 */
export const ONLINE_WITHIN_MS = 60_000;

export function isOnline(worker: Pick<WorkerRow, 'last_seen_at'>, now: number): boolean {
  return now - Date.parse(worker.last_seen_at) <= ONLINE_WITHIN_MS;
}

export async function fetchWorkers(
  supabase: SupabaseClient,
  tenantId: string,
): Promise<WorkerRow[]> {
  return unwrap(
    await supabase
      .from('workers')
      .select(COLUMNS.join(', '))
      .eq('tenant_id', tenantId)
      .order('last_seen_at', { ascending: false })
      .order('id')
      .limit(WORKERS_LIMIT),
  ) as unknown as WorkerRow[];
}

export function useWorkersQuery(tenantId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: workerKeys.list(tenantId),
    queryFn: () => fetchWorkers(supabase, tenantId),
  });
}

/** The list's fields of a workers row (a Realtime change carries them all). */
export function toWorkerRow(row: Record<string, unknown>): WorkerRow {
  return Object.fromEntries(COLUMNS.map((column) => [column, row[column]])) as never;
}

/** The list with `worker` added or replaced, in the query's order (most recently seen first). */
export function upsertWorker(list: readonly WorkerRow[], worker: WorkerRow): WorkerRow[] {
  return [...list.filter((row) => row.id !== worker.id), worker].sort(
    (a, b) =>
      Date.parse(b.last_seen_at) - Date.parse(a.last_seen_at) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
