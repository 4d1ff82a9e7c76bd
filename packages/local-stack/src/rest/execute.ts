import type { Sql } from '@omnihub/database';
import postgres from 'postgres';
import { asClaims, type Tx } from '../as-role.ts';
import type { Catalog } from './catalog.ts';
import { requestErrors } from './errors.ts';
import type { RequestIdentity } from './request-auth.ts';
import type { PlannedCount, Statement } from './sql-builder.ts';

/** What every statement of sql-builder returns, in one row. */
export interface ResultRow {
  /** The count when asked for (Prefer: count=…): exact, planned or estimated as asked. */
  total: number | undefined;
  /** Rows in this response. */
  rows: number;
  /** The JSON body as Postgres rendered it. */
  body: string;
}

/**
 * Postgres's "unknown" type. Binding every value with it lets Postgres type
 * the value from where it is used (a uuid column makes it a uuid), as
 * PostgREST does; it also keeps postgres.js from re-serializing strings by
 * the inferred type (its boolean serializer would turn 'true' into 'f').
 */
const UNKNOWN_OID = 705;

/**
 * SQLSTATEs that may mean "the catalog changed since it was cached" (an
 * undefined table, column or function, a type mismatch).
 */
const STALE_CATALOG = new Set(['42P01', '42703', '42883', '42804']);

/** A call found its function changed since the catalog was read (thrown in the transaction: rolled back). */
class StaleRoutine extends Error {}

export interface RunOptions {
  /** GET and HEAD, and calls of stable or immutable functions, run read-only, as in PostgREST. */
  readOnly: boolean;
  /** Accept: application/vnd.pgrst.object+json: anything but one row is refused and rolled back. */
  singular: boolean;
}

/**
 * Runs one statement in its own transaction as the request's role, with the
 * token's claims in request.jwt.claims (asClaims), so RLS and privileges
 * decide; the transaction commits only if the response is a success.
 */
export async function runStatement(
  sql: Sql,
  catalog: Catalog,
  identity: RequestIdentity,
  statement: Statement,
  options: RunOptions,
): Promise<ResultRow> {
  try {
    return await asClaims(sql, identity.claims, async (tx) => {
      const stale = (version: string | null | undefined) =>
        statement.routine !== undefined && version !== statement.routine.version;
      // Before the call too: its volatility decides whether it may run read-only.
      if (statement.routine) {
        const [current] = await tx.unsafe<{ version: string }[]>(
          'SELECT p.xmin::text AS version FROM pg_catalog.pg_proc p WHERE p.oid = $1',
          [tx.typed(String(statement.routine.oid), UNKNOWN_OID)],
          { prepare: false },
        );
        if (stale(current?.version)) throw new StaleRoutine('the function changed');
      }
      if (options.readOnly) await tx.unsafe('SET TRANSACTION READ ONLY');
      const [row] = await tx.unsafe<
        {
          total: string | null;
          page_total: string;
          body: string;
          routine_version?: string | null;
        }[]
      >(
        statement.text,
        statement.params.map((value) => tx.typed(value, UNKNOWN_OID)),
        // Statements differ per request: not worth a per-connection prepared statement each.
        { prepare: false },
      );
      // And after it, in case it was replaced in between.
      if (stale(row?.routine_version)) throw new StaleRoutine('the function changed');
      const counted = row?.total == null ? undefined : Number(row.total);
      const result: ResultRow = {
        total: statement.plannedCount
          ? await totalWithPlan(tx, counted, statement.plannedCount)
          : counted,
        rows: Number(row?.page_total ?? 0),
        body: row?.body ?? '',
      };
      // Thrown inside the transaction, so a PATCH …single() that matched two rows changes nothing.
      if (options.singular && result.rows !== 1) throw requestErrors.singularity(result.rows);
      return result;
    });
  } catch (error) {
    if (isStaleCatalog(error)) catalog.invalidate();
    throw error;
  }
}

/**
 * The total PostgREST reports (its resultSetWTotal): count=planned is the
 * planner's estimate; count=estimated is the exact count while that is at
 * most db-max-rows (the statement counted one row past it), else the larger
 * of the count and the estimate (without db-max-rows it always asks).
 */
async function totalWithPlan(
  tx: Tx,
  counted: number | undefined,
  plan: PlannedCount,
): Promise<number> {
  const exactEnough =
    plan.mode === 'estimated' && plan.maxRows !== undefined && (counted ?? 0) <= plan.maxRows;
  if (exactEnough) return counted ?? 0;
  // "Plan Rows" of the top node, as PostgREST reads it.
  const [row] = await tx.unsafe<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }[]>(
    plan.text,
    plan.params.map((value) => tx.typed(value, UNKNOWN_OID)),
    { prepare: false },
  );
  const planned = Math.round(row!['QUERY PLAN'][0].Plan['Plan Rows']);
  return plan.mode === 'planned' ? planned : Math.max(counted ?? 0, planned);
}

function isStaleCatalog(error: unknown): boolean {
  return (
    error instanceof StaleRoutine ||
    (error instanceof postgres.PostgresError && STALE_CATALOG.has(error.code))
  );
}

/**
 * Serves a request, and serves it once more from a freshly read catalog if
 * the first attempt was built from a stale one (its transaction rolled back,
 * so nothing happened twice). An error that was not about the catalog (say,
 * a function body naming a missing column) simply comes back again.
 */
export async function withFreshCatalog<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (!isStaleCatalog(error)) throw error;
    return attempt();
  }
}
