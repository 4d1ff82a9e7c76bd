import type { Sql } from '@omnihub/database';
import type { PortLogger } from '@omnihub/port';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import type { JwtKit } from '../jwt.ts';
import { Catalog } from './catalog.ts';
import { requestErrors, RestError, toRestError } from './errors.ts';
import { checkProfile } from './negotiation.ts';
import { identify, type RequestIdentity } from './request-auth.ts';
import type { RestContext, RestRequest, RestResponse } from './rest-types.ts';
import { serveRpc } from './rpc.ts';
import { serveTable } from './tables.ts';

export interface RestDeps {
  sql: Sql;
  jwt: JwtKit;
  /** Where unexpected failures (answered with a bare 500) are reported. */
  log?: PortLogger;
  /**
   * PostgREST's db-max-rows: a read of a table returns at most this many
   * rows, and Prefer: count=estimated counts exactly up to it. Supabase
   * sets it from [api] max_rows, 1000 unless a project changes it (ours does
   * not: supabase/config.toml); null for none, as PostgREST's own default.
   * Function results are not capped here (nothing returns that many).
   */
  maxRows?: number | null;
}

/** Supabase's default [api] max_rows. */
export const SUPABASE_MAX_ROWS = 1000;

type Env = { Variables: { identity: RequestIdentity } };

/**
 * The headers supabase-js and browsers send; a preflight for them must pass,
 * as it does through Supabase's gateway.
 */
const ALLOWED_HEADERS = [
  'authorization',
  'apikey',
  'content-type',
  'prefer',
  'range',
  'range-unit',
  'accept',
  'accept-profile',
  'content-profile',
  'x-client-info',
  'x-retry-count',
];
/** What browser code may read: Content-Range carries the count supabase-js returns. */
const EXPOSED_HEADERS = [
  'Content-Range',
  'Content-Location',
  'Content-Profile',
  'Location',
  'Preference-Applied',
  'Range-Unit',
  'Proxy-Status',
];

/** /rest/v1: the PostgREST semantics OmniDash needs, running every request as the token's role under RLS. */
export function createRestApp(deps: RestDeps) {
  const context: RestContext = {
    sql: deps.sql,
    catalog: new Catalog(deps.sql),
    maxRows: deps.maxRows === null ? undefined : (deps.maxRows ?? SUPABASE_MAX_ROWS),
  };
  const app = new Hono<Env>();

  app.use(
    '*',
    cors({
      origin: '*',
      allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS'],
      allowHeaders: ALLOWED_HEADERS,
      exposeHeaders: EXPOSED_HEADERS,
      maxAge: 3600,
    }),
  );

  // The gateway's API key check, then the bearer token: before anything else, even a 404.
  app.use('*', async (c, next) => {
    c.set(
      'identity',
      await identify(deps.jwt, c.req.header('apikey') ?? c.req.query('apikey'), (name) =>
        c.req.header(name),
      ),
    );
    await next();
  });

  const handle =
    (serve: (request: RestRequest, c: Context<Env>) => Promise<RestResponse>) =>
    async (c: Context<Env>) => {
      const header = (name: string) => c.req.header(name);
      const profileSent = checkProfile(c.req.method, header);
      let body: Promise<string> | undefined;
      const request: RestRequest = {
        method: c.req.method,
        url: withoutApiKey(new URL(c.req.url)),
        header,
        body: () => (body ??= c.req.text()),
        identity: c.get('identity'),
        profileSent,
      };
      const response = await serve(request, c);
      return c.newResponse(response.body, response.status as 200, response.headers);
    };

  app.all(
    '/rpc/:fn',
    handle((request, c) => serveRpc(context, request, c.req.param('fn') ?? '')),
  );
  app.all(
    '/:table',
    handle((request, c) => serveTable(context, request, c.req.param('table') ?? '')),
  );
  // PostgREST's root serves an OpenAPI description; the local stack does not.
  app.all('/', () => {
    throw requestErrors.rootDisabled();
  });
  app.all('*', () => {
    throw requestErrors.invalidPath();
  });

  app.onError((thrown, c) => {
    const identity = c.get('identity') as RequestIdentity | undefined;
    const { error, internal } = toRestError(thrown, identity?.authed ?? false);
    if (internal)
      deps.log?.({
        level: 'error',
        msg: 'rest request failed',
        method: c.req.method,
        path: c.req.path,
        error: thrown instanceof Error ? thrown.message : String(thrown),
      });
    return errorResponse(c, error);
  });

  return app;
}

function errorResponse(c: Context<Env>, error: RestError): Response {
  const code = typeof error.body.code === 'string' ? error.body.code : undefined;
  return c.newResponse(JSON.stringify(error.body), error.status as 400, {
    'Content-Type': 'application/json; charset=utf-8',
    ...(code ? { 'Proxy-Status': `PostgREST; error=${code}` } : {}),
    ...error.headers,
  });
}

/**
 * The gateway takes the `apikey` query parameter for itself (Kong's
 * hide_credentials); PostgREST would read it as a filter or an argument.
 */
function withoutApiKey(url: URL): URL {
  url.searchParams.delete('apikey');
  return url;
}
