import type { Sql } from '@omnihub/database';
import type { JwtClaims } from './jwt.ts';

/** The roles a token may act as, as on Supabase. */
export const API_ROLES = new Set(['anon', 'authenticated', 'service_role']);

export type Tx = Parameters<Parameters<Sql['begin']>[1]>[0];

/**
 * Runs `fn` in one transaction the way PostgREST does: the token's role and
 * its claims (request.jwt.claims, read by auth.uid() and RLS policies) hold
 * for this transaction only, so RLS is the real gate.
 */
export async function asClaims<T>(
  sql: Sql,
  claims: JwtClaims,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  if (!API_ROLES.has(claims.role)) throw new Error(`role ${claims.role} is not an API role`);
  return (await sql.begin(async (tx) => {
    await tx`select set_config('role', ${claims.role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    return fn(tx);
  })) as T;
}
