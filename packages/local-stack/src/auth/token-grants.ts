import type { Sql } from '@omnihub/database';
import type { Context } from 'hono';
import { ACCESS_TOKEN_SECONDS, type JwtKit } from '../jwt.ts';
import { AuthHttpError, badRequest, OAuthError } from './errors.ts';
import { refreshSession, startSession, type IssuedSession } from './sessions.ts';
import { findUserByPassword, tokenSubject, userJson } from './users.ts';

export interface TokenDeps {
  sql: Sql;
  jwt: JwtKit;
}

const INVALID_LOGIN = 'Invalid login credentials';

/**
 * POST /token: the grants supabase-js password sign-in uses. Errors are
 * GoTrue's, including its odd ones (an unknown grant type is a 400
 * `invalid_credentials` with the message "unsupported_grant_type").
 */
export async function tokenEndpoint(c: Context, deps: TokenDeps): Promise<Response> {
  const grantType = c.req.query('grant_type');
  if (grantType === 'password') return c.json(await passwordGrant(c, deps));
  if (grantType === 'refresh_token') return c.json(await refreshTokenGrant(c, deps));
  throw badRequest('invalid_credentials', 'unsupported_grant_type');
}

async function passwordGrant(c: Context, deps: TokenDeps) {
  const body = await readJsonObject(c);
  const email = stringField(body, 'email');
  const phone = stringField(body, 'phone');
  const password = stringField(body, 'password');
  if (email && phone) {
    throw badRequest(
      'validation_failed',
      'Only an email address or phone number should be provided on login.',
    );
  }
  if (phone) throw new AuthHttpError(422, 'phone_provider_disabled', 'Phone logins are disabled');
  if (!email) throw badRequest('validation_failed', 'missing email or phone');
  // GoTrue would look the user up and answer invalid_credentials; naming the
  // missing field is clearer and reveals nothing about the account.
  if (!password) throw badRequest('validation_failed', 'missing password');

  const found = await findUserByPassword(deps.sql, email, password);
  // One answer for an unknown email and a wrong password, as GoTrue gives.
  if (!found || !found.passwordMatches) throw badRequest('invalid_credentials', INVALID_LOGIN);
  if (!found.user.email_confirmed_at)
    throw badRequest('email_not_confirmed', 'Email not confirmed');

  const session = await startSession(deps.sql, found.user.id, c.req.header('user-agent'));
  return sessionJson(deps.jwt, session);
}

async function refreshTokenGrant(c: Context, deps: TokenDeps) {
  const body = await readJsonObject(c);
  const refreshToken = stringField(body, 'refresh_token');
  if (!refreshToken) throw new OAuthError('invalid_request', 'refresh_token required');

  const outcome = await refreshSession(deps.sql, refreshToken, c.req.header('user-agent'));
  if (!outcome.ok) {
    throw outcome.reason === 'already_used'
      ? badRequest('refresh_token_already_used', 'Invalid Refresh Token: Already Used')
      : badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
  }
  return sessionJson(deps.jwt, outcome.session);
}

/** GoTrue's AccessTokenResponse, which auth-js's _sessionResponse reads. */
async function sessionJson(jwt: JwtKit, session: IssuedSession) {
  const { token, expiresAt } = await jwt.signAccessToken(
    tokenSubject(session.user),
    session.sessionId,
  );
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: ACCESS_TOKEN_SECONDS,
    expires_at: expiresAt,
    refresh_token: session.refreshToken,
    user: userJson(session.user),
  };
}

/** The JSON body, which GoTrue requires for every grant; anything else is `bad_json`. */
async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw badRequest(
      'bad_json',
      `Could not parse request body as JSON: ${(error as Error).message}`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('bad_json', 'Could not parse request body as JSON: expected an object');
  }
  return body as Record<string, unknown>;
}

/** A string field; absent, null and "" all count as missing, as in Go's decoding. */
function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw badRequest('bad_json', `Could not parse request body as JSON: ${name} must be a string`);
  }
  return value;
}
