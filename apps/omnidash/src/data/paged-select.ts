import type { SupabaseClient } from '@supabase/supabase-js';
import { unwrap } from './errors.ts';

/** PostgREST's answer to an offset past the last row (a page number from an old URL). */
const RANGE_NOT_SATISFIABLE = 'PGRST103';

/**
 * Lists are counted exactly up to this many rows; past it the count is "more
 * than this". PostgREST's count=estimated counts exactly up to its
 * db-max-rows (Supabase's API max_rows: 1000 unless a project changes it),
 * at the cost of those rows' index entries, where an exact count reads every
 * match (all of a tenant's 200,000 tasks for the unfiltered list). Beyond
 * db-max-rows it gives the planner's estimate, which is not shown: under
 * RLS the planner guesses the membership policy keeps half the rows, so it
 * is about half the truth. Must not exceed the project's max_rows.
 */
export const EXACT_COUNT_LIMIT = 1000;

export interface Page<Row> {
  rows: Row[];
  /** Rows matching the filters (on every page); when `exact` is false, a lower bound: there are more. */
  count: number;
  /** Whether `count` is the number of matching rows, not a lower bound. */
  exact: boolean;
  /** Whether a page follows this one. */
  hasNext: boolean;
}

export interface PageRequest {
  table: string;
  columns: readonly string[];
  /** column = value for each entry with a value; null, undefined and '' filter nothing. */
  equal: Record<string, string | null | undefined>;
  /** Newest first by this column, then by id. */
  orderBy: string;
  /** 0-based. */
  page: number;
  pageSize: number;
}

/**
 * One page of a filtered list with the number of matching rows: exact up to
 * EXACT_COUNT_LIMIT (and on the last page), a lower bound beyond. It reads
 * one row past the page to know whether another follows. Past the end it is
 * an empty page that still knows the count, so the screen can lead back to
 * the first one.
 */
export async function selectPage<Row>(
  supabase: SupabaseClient,
  request: PageRequest,
): Promise<Page<Row>> {
  const filtered = (columns: string, count: 'estimated' | undefined, head = false) => {
    let query = supabase.from(request.table).select(columns, { count, head });
    for (const [column, value] of Object.entries(request.equal)) {
      if (value) query = query.eq(column, value);
    }
    return query;
  };
  const from = request.page * request.pageSize;
  const pageRows = (count: 'estimated' | undefined) =>
    filtered(request.columns.join(','), count)
      .order(request.orderBy, { ascending: false })
      .order('id', { ascending: false })
      .range(from, from + request.pageSize);
  const result = await pageRows('estimated');
  if (result.error?.code === RANGE_NOT_SATISFIABLE) {
    // Past the count: an old page number, or past an estimate lower than the
    // truth (PostgREST checks the offset against whatever total it has).
    const [rows, total] = await Promise.all([
      pageRows(undefined),
      filtered('id', 'estimated', true),
    ]);
    unwrap(total);
    return toPage(unwrap(rows) as unknown as Row[], total.count, from, request);
  }
  return toPage(unwrap(result) as unknown as Row[], result.count, from, request);
}

function toPage<Row>(
  fetched: Row[],
  counted: number | null,
  from: number,
  request: PageRequest,
): Page<Row> {
  const rows = fetched.slice(0, request.pageSize);
  const hasNext = fetched.length > request.pageSize;
  // The last page knows how many there are.
  if (rows.length > 0 && !hasNext) return { rows, count: from + rows.length, exact: true, hasNext };
  const total = counted ?? 0;
  if (total <= EXACT_COUNT_LIMIT) return { rows, count: total, exact: true, hasNext };
  // More than EXACT_COUNT_LIMIT, and more than the rows up to this page's end.
  const atLeast =
    rows.length > 0 ? Math.max(EXACT_COUNT_LIMIT, from + rows.length) : EXACT_COUNT_LIMIT;
  return { rows, count: atLeast, exact: false, hasNext };
}
