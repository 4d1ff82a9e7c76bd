import type { Sql } from '@omnihub/database';
import type { PortLogger } from '@omnihub/port';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { JwtKit } from '../jwt.ts';
import { apiKeyGate } from './api-key-gate.ts';
import { authenticate } from './authenticate.ts';
import { AuthHttpError, badRequest, renderAuthError } from './errors.ts';
import { endSessions, type LogoutScope } from './sessions.ts';
import { tokenEndpoint } from './token-grants.ts';
import { userJson } from './users.ts';

export interface AuthDeps {
  sql: Sql;
  jwt: JwtKit;
  /** Where unexpected failures (answered with a 500) are reported. */
  log?: PortLogger;
}

const LOGOUT_SCOPES = new Set<string>(['global', 'local', 'others']);
const ROUTES: Record<string, string> = { '/token': 'POST', '/user': 'GET', '/logout': 'POST' };

/**
 * /auth/v1: the parts of Supabase Auth (GoTrue) that supabase-js password
 * sign-in uses, with the gateway's API-key check and CORS in front, as a
 * Supabase project serves them. Response and error shapes follow GoTrue
 * closely enough that @supabase/supabase-js works unchanged.
 */
export function createAuthApp(deps: AuthDeps) {
  const app = new Hono();

  // First, so that preflights (which carry no apikey) succeed and every
  // answer, errors included, is readable from OmniDash's dev origin. The
  // API-version header is exposed because auth-js reads error codes by it.
  app.use(
    '*',
    cors({
      origin: '*',
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      allowHeaders: [
        'authorization',
        'apikey',
        'content-type',
        'x-client-info',
        'x-supabase-api-version',
        'accept',
      ],
      exposeHeaders: ['x-supabase-api-version'],
      maxAge: 3600,
    }),
  );
  app.use('*', apiKeyGate(deps.jwt));

  app.post('/token', (c) => tokenEndpoint(c, deps));

  app.get('/user', async (c) => {
    const { user } = await authenticate(c, deps.sql, deps.jwt);
    return c.json(userJson(user));
  });

  app.post('/logout', async (c) => {
    const scope = c.req.query('scope') || 'global';
    if (!LOGOUT_SCOPES.has(scope)) {
      throw badRequest('validation_failed', `Unsupported logout scope ${JSON.stringify(scope)}`);
    }
    const { user, sessionId } = await authenticate(c, deps.sql, deps.jwt);
    await endSessions(deps.sql, user.id, sessionId, scope as LogoutScope);
    return c.body(null, 204);
  });

  // GoTrue's router answers these with bare text; JSON in GoTrue's error
  // shape is as easy for auth-js to parse and tells a person what exists.
  app.notFound((c) => {
    const method = ROUTES[c.req.path];
    if (method) {
      return renderAuthError(
        c,
        new AuthHttpError(405, 'method_not_allowed', `${c.req.path} only accepts ${method}`),
      );
    }
    return renderAuthError(
      c,
      new AuthHttpError(
        404,
        'not_found',
        `No auth endpoint at ${c.req.path}; this local stack serves POST /token, GET /user and POST /logout`,
      ),
    );
  });
  app.onError((error, c) => renderAuthError(c, error, deps.log));

  return app;
}
