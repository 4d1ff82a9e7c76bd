import type { SupabaseClient } from '@supabase/supabase-js';
import { unwrap } from './errors.ts';

/** PostgREST's answer to an offset past the last row (a page number from an old URL). */
const RANGE_NOT_SATISFIABLE = 'PGRST103';

export interface Page<Row> {
  rows: Row[];
  /** Rows matching the filters, on every page. */
  count: number;
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
 * One page of a filtered list with the exact number of matching rows. Past
 * the end it is an empty page that still knows the total, so the screen
 * can lead back to the first one.
 */
export async function selectPage<Row>(
  supabase: SupabaseClient,
  request: PageRequest,
): Promise<Page<Row>> {
  const filtered = (columns: string, head: boolean) => {
    let query = supabase.from(request.table).select(columns, { count: 'exact', head });
    for (const [column, value] of Object.entries(request.equal)) {
      if (value) query = query.eq(column, value);
    }
    return query;
  };
  const from = request.page * request.pageSize;
  const result = await filtered(request.columns.join(','), false)
    .order(request.orderBy, { ascending: false })
    .order('id', { ascending: false })
    .range(from, from + request.pageSize - 1);
  if (result.error?.code === RANGE_NOT_SATISFIABLE) {
    const total = await filtered('id', true);
    unwrap(total);
    return { rows: [], count: total.count ?? 0 };
  }
  const rows = unwrap(result) as unknown as Row[];
  return { rows, count: result.count ?? rows.length };
}
