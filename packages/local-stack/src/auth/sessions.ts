import type { Sql } from '@omnihub/database';
import { hashRefreshToken, newRefreshToken } from './refresh-token.ts';
import { findUserById, type Queryable, type UserRow } from './users.ts';

/**
 * Sessions and their refresh tokens, kept as GoTrue keeps them: one
 * auth.sessions row per sign-in, a chain of auth.refresh_tokens rows per
 * session (each refresh revokes the token used and issues its child), and
 * signing out deletes sessions, their tokens going with them. Only hashes of
 * refresh tokens are stored (see refresh-token.ts).
 */

export interface IssuedSession {
  user: UserRow;
  sessionId: string;
  refreshToken: string;
}

async function issueRefreshToken(
  tx: Queryable,
  userId: string,
  sessionId: string,
  parentHash: string | null,
): Promise<string> {
  const token = newRefreshToken();
  await tx`
    insert into auth.refresh_tokens (token, user_id, session_id, parent)
    values (${hashRefreshToken(token)}, ${userId}, ${sessionId}, ${parentHash})`;
  return token;
}

/** A password sign-in: a new session, its first refresh token, and last_sign_in_at. */
export async function startSession(
  sql: Sql,
  userId: string,
  userAgent: string | undefined,
): Promise<IssuedSession> {
  return (await sql.begin(async (tx) => {
    const [session] = await tx<{ id: string }[]>`
      insert into auth.sessions (user_id, user_agent) values (${userId}, ${userAgent ?? null})
      returning id`;
    const refreshToken = await issueRefreshToken(tx, userId, session!.id, null);
    await tx`update auth.users set last_sign_in_at = now() where id = ${userId}`;
    const user = await findUserById(tx, userId);
    return { user: user!, sessionId: session!.id, refreshToken };
  })) as IssuedSession;
}

export type RefreshOutcome =
  { ok: true; session: IssuedSession } | { ok: false; reason: 'not_found' | 'already_used' };

/**
 * The refresh_token grant: swaps a live refresh token for its child. The row
 * is locked, so two refreshes with one token cannot both succeed. A token
 * that was already swapped is refused, and (GoTrue's reuse detection) every
 * token of its session is revoked, since a replayed token means it leaked;
 * the session has to sign in again.
 *
 * GoTrue is more lenient here: it hands the current child back for the
 * immediate parent and allows any revoked token for a short reuse interval
 * (10 s), for clients that lost a refresh response. This stand-in refuses
 * every reuse: supabase-js serialises its refreshes, and a strict rule is
 * the one a test can rely on.
 */
export async function refreshSession(
  sql: Sql,
  refreshToken: string,
  userAgent: string | undefined,
): Promise<RefreshOutcome> {
  const hash = hashRefreshToken(refreshToken);
  return (await sql.begin(async (tx) => {
    const [token] = await tx<
      { id: string; user_id: string; session_id: string; revoked: boolean }[]
    >`
      select id, user_id, session_id, revoked from auth.refresh_tokens
      where token = ${hash} for update`;
    if (!token) return { ok: false, reason: 'not_found' };
    if (token.revoked) {
      await tx`
        update auth.refresh_tokens set revoked = true, updated_at = now()
        where session_id = ${token.session_id} and not revoked`;
      return { ok: false, reason: 'already_used' };
    }
    await tx`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${token.id}`;
    const child = await issueRefreshToken(tx, token.user_id, token.session_id, hash);
    await tx`
      update auth.sessions
      set refreshed_at = now(), updated_at = now(), user_agent = ${userAgent ?? null}
      where id = ${token.session_id}`;
    const user = await findUserById(tx, token.user_id);
    return {
      ok: true,
      session: { user: user!, sessionId: token.session_id, refreshToken: child },
    };
  })) as RefreshOutcome;
}

export async function sessionExists(sql: Sql, sessionId: string): Promise<boolean> {
  const [row] = await sql`select 1 from auth.sessions where id = ${sessionId}`;
  return row !== undefined;
}

export type LogoutScope = 'global' | 'local' | 'others';

/**
 * Signs out as GoTrue's /logout does, by deleting sessions (their refresh
 * tokens cascade): `local` this session, `others` every other session of
 * the user, `global` all of them. A token without a session ends them all.
 */
export async function endSessions(
  sql: Sql,
  userId: string,
  sessionId: string | undefined,
  scope: LogoutScope,
): Promise<void> {
  if (sessionId && scope === 'local') {
    await sql`delete from auth.sessions where id = ${sessionId}`;
  } else if (sessionId && scope === 'others') {
    await sql`delete from auth.sessions where user_id = ${userId} and id <> ${sessionId}`;
  } else {
    await sql`delete from auth.sessions where user_id = ${userId}`;
  }
}
