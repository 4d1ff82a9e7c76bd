import type { Sql } from '@omnihub/database';

const EPOCH = 2n ** 32n;
const HALF = 2n ** 31n;

/**
 * The 64-bit id (epoch and xid) of a 32-bit transaction id: the one nearest
 * to `reference`, a 64-bit id of the same moment (a live transaction is
 * never 2^31 ids away from the current ones: wraparound protection).
 */
export function fullTransactionId(xid: number, reference: bigint): bigint {
  let difference = (BigInt(xid) - (reference % EPOCH) + EPOCH) % EPOCH;
  if (difference >= HALF) difference -= EPOCH;
  return reference + difference;
}

/**
 * Whether transaction `xid` had ended before `snapshot` was taken, so the
 * snapshot sees what it committed: `snapshot` is pg_current_snapshot() as
 * text (`xmin:xmax:xip,…`), and this is pg_visible_in_snapshot for it.
 */
export function visibleInSnapshot(xid: number, snapshot: string): boolean {
  const match = /^(\d+):(\d+):([\d,]*)$/.exec(snapshot);
  if (!match) throw new Error(`unreadable snapshot ${JSON.stringify(snapshot)}`);
  const [xmin, xmax] = [BigInt(match[1]!), BigInt(match[2]!)];
  const full = fullTransactionId(xid, xmax);
  if (full < xmin) return true;
  if (full >= xmax) return false;
  return !match[3]!.split(',').some((running) => running !== '' && BigInt(running) === full);
}

/** Pauses between looks at a transaction that is not visible yet (then the last, repeated). */
const BACKOFF_MS = [1, 2, 4, 8, 16, 32, 50];
/** How long a wait goes on before it is reported (a commit should be visible within milliseconds). */
export const SLOW_VISIBILITY_MS = 5_000;

/**
 * Waits until a new snapshot sees transaction `xid`'s commit. Logical
 * decoding streams a transaction once its commit record is flushed, which is
 * before the committing session leaves the proc array: for a moment (longer
 * when a synchronous standby has not confirmed it yet), other sessions do
 * not see it. Resolves false only if `stopped()` turned true first.
 */
export async function waitUntilVisible(
  sql: Sql,
  xid: number,
  options: { stopped: () => boolean; onSlow: (waitedMs: number) => void },
): Promise<boolean> {
  const started = Date.now();
  let reported = false;
  for (let attempt = 0; ; attempt++) {
    const [row] = await sql`select pg_catalog.pg_current_snapshot()::text as snapshot`;
    if (visibleInSnapshot(xid, row!.snapshot as string)) return true;
    if (options.stopped()) return false;
    const waited = Date.now() - started;
    if (!reported && waited >= SLOW_VISIBILITY_MS) {
      reported = true;
      options.onSlow(waited);
    }
    await new Promise((resolve) =>
      setTimeout(resolve, BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]),
    );
  }
}
