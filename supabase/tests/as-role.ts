import type { Sql } from '@omnihub/database';

/** The client postgres.js passes to a transaction callback (from the last overload of sql.begin). */
export type Tx = Parameters<Parameters<Sql['begin']>[1]>[0];

/** Who a request runs as, the way PostgREST sees it: the JWT's role, and its subject when signed in. */
export type Actor =
  { role: 'anon' } | { role: 'authenticated'; userId: string } | { role: 'service_role' };

export const anon: Actor = { role: 'anon' };
export const serviceRole: Actor = { role: 'service_role' };
export const signedIn = (userId: string): Actor => ({ role: 'authenticated', userId });

/** What a statement did: its value, or the SQLSTATE and message it was refused with. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/**
 * Runs `fn` in one transaction as `actor`, committing on success, exactly as
 * PostgREST does a request: claims in request.jwt.claims and the role set
 * only for this transaction. A refusal rolls the whole transaction back.
 */
export async function runAs<T>(
  sql: Sql,
  actor: Actor,
  fn: (tx: Tx) => Promise<T>,
): Promise<Outcome<T>> {
  try {
    const value = await sql.begin(async (tx) => {
      await enter(tx, actor);
      return fn(tx);
    });
    return { ok: true, value: value as T };
  } catch (error) {
    return refusal(error);
  }
}

/**
 * Like runAs, but always rolls back: for read and privilege probes that must
 * leave the database as it was whatever they find.
 */
export async function probeAs<T>(
  sql: Sql,
  actor: Actor,
  fn: (tx: Tx) => Promise<T>,
): Promise<Outcome<T>> {
  try {
    await sql.begin(async (tx) => {
      await enter(tx, actor);
      throw new RolledBack(await fn(tx));
    });
  } catch (error) {
    if (error instanceof RolledBack) return { ok: true, value: error.value as T };
    return refusal(error);
  }
  throw new Error('probeAs: the transaction committed, which it never should.');
}

async function enter(tx: Tx, actor: Actor): Promise<void> {
  const claims =
    actor.role === 'authenticated' ? { sub: actor.userId, role: actor.role } : { role: actor.role };
  await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
  await tx.unsafe(`set local role ${actor.role}`);
}

class RolledBack extends Error {
  constructor(readonly value: unknown) {
    super('Rolled back on purpose.');
  }
}

/** A Postgres refusal becomes an Outcome; anything else (a bug in the test) is rethrown. */
function refusal(error: unknown): Outcome<never> {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return { ok: false, code, message: (error as Error).message };
  }
  throw error;
}

/** The SQLSTATE a call was refused with, or 'ok': reads well in expect(...).toBe('42501'). */
export function sqlState(outcome: Outcome<unknown>): string {
  return outcome.ok ? 'ok' : outcome.code;
}
