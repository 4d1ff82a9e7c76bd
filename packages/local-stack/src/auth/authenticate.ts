import type { Sql } from '@omnihub/database';
import { errors as joseErrors } from 'jose';
import type { Context } from 'hono';
import type { JwtClaims, JwtKit } from '../jwt.ts';
import { AuthHttpError, badRequest, forbidden } from './errors.ts';
import { sessionExists } from './sessions.ts';
import { findUserById, type UserRow } from './users.ts';

export interface Authenticated {
  user: UserRow;
  claims: JwtClaims;
  /** The session the token belongs to; absent for tokens without a session_id. */
  sessionId?: string;
}

const BEARER = /^(?:B|b)earer (\S+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * GoTrue's requireAuthentication, check for check and error for error, since
 * auth-js reacts to these codes: the bearer token must verify (403
 * `bad_jwt`), name an existing user (403 `user_not_found`) and, when it
 * carries a session_id, a session that still exists (403
 * `session_not_found`, which auth-js turns into AuthSessionMissingError and
 * a local sign-out). So after /logout the old access token is refused here
 * at once, while REST keeps accepting it until it expires, as on Supabase.
 */
export async function authenticate(c: Context, sql: Sql, jwt: JwtKit): Promise<Authenticated> {
  const match = BEARER.exec(c.req.header('authorization') ?? '');
  if (!match) {
    throw new AuthHttpError(401, 'no_authorization', 'This endpoint requires a Bearer token');
  }
  let claims: JwtClaims;
  try {
    claims = await jwt.verify(match[1]!);
  } catch (error) {
    throw forbidden(
      'bad_jwt',
      `invalid JWT: unable to parse or verify signature, ${describeJwtFailure(error)}`,
    );
  }
  if (!claims.sub) throw forbidden('bad_jwt', 'invalid claim: missing sub claim');
  if (!UUID.test(claims.sub))
    throw badRequest('bad_jwt', 'invalid claim: sub claim must be a UUID');
  const user = await findUserById(sql, claims.sub);
  if (!user) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');

  const sessionId = claims.session_id;
  if (!sessionId || sessionId === NIL_UUID) return { user, claims };
  if (!UUID.test(sessionId)) {
    throw forbidden('bad_jwt', 'invalid claim: session_id claim must be a UUID');
  }
  if (!(await sessionExists(sql, sessionId))) {
    throw forbidden('session_not_found', 'Session from session_id claim in JWT does not exist');
  }
  return { user, claims, sessionId };
}

/** The reason in the words of GoTrue's JWT library, where it matters (expiry). */
function describeJwtFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token has invalid claims: token is expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'token signature is invalid: signature is invalid';
  return error instanceof Error ? error.message : String(error);
}
