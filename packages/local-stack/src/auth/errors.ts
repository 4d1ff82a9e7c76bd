import type { PortLogger } from '@omnihub/port';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * GoTrue's HTTPError: a status, an error code from GoTrue's list (auth-js
 * exposes it as `AuthApiError.code`) and a message. Handlers throw it; the
 * app's error handler renders it the way GoTrue does.
 */
export class AuthHttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuthHttpError';
  }
}

/**
 * GoTrue still answers a few token-grant failures as OAuth2 errors
 * (`{error, error_description}`, always 400, whatever the API version).
 */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
  }
}

export const badRequest = (code: string, message: string) => new AuthHttpError(400, code, message);
export const forbidden = (code: string, message: string) => new AuthHttpError(403, code, message);

const API_VERSION_HEADER = 'X-Supabase-Api-Version';
const API_VERSION_2024_01_01 = '2024-01-01';

/**
 * The API version a request asked for, as GoTrue's DetermineClosestAPIVersion
 * decides it: a date on or after 2024-01-01 selects that version (the only
 * one after the initial), anything else the initial version.
 */
function requestedApiVersion(c: Context): string | undefined {
  const header = c.req.header(API_VERSION_HEADER);
  if (!header || !/^\d{4}-\d{2}-\d{2}$/.test(header)) return undefined;
  const date = Date.parse(`${header}T00:00:00Z`);
  if (Number.isNaN(date) || date < Date.parse(`${API_VERSION_2024_01_01}T00:00:00Z`))
    return undefined;
  return API_VERSION_2024_01_01;
}

/**
 * Renders an error as GoTrue's HandleResponseError does, because auth-js
 * parses exactly that: clients that send `X-Supabase-Api-Version: 2024-01-01`
 * (every supabase-js since 2024) get `{code, message}` and the header echoed,
 * which is how auth-js knows to read `code` as the error code; older clients
 * get the initial shape `{code: <status>, error_code, msg}`. Anything
 * unexpected is a 500 `unexpected_failure` with the details kept server-side.
 */
export function renderAuthError(c: Context, error: unknown, log?: PortLogger): Response {
  if (error instanceof OAuthError) {
    return c.json({ error: error.error, error_description: error.description }, 400);
  }
  let httpError: AuthHttpError;
  if (error instanceof AuthHttpError) {
    httpError = error;
  } else {
    log?.({
      level: 'error',
      msg: 'auth request failed',
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? error.message : String(error),
    });
    httpError = new AuthHttpError(
      500,
      'unexpected_failure',
      'Unexpected failure, please check server logs for more information',
    );
  }
  const version = requestedApiVersion(c);
  if (version) {
    c.header(API_VERSION_HEADER, version);
    return c.json({ code: httpError.code, message: httpError.message }, httpError.status);
  }
  return c.json(
    { code: httpError.status, error_code: httpError.code, msg: httpError.message },
    httpError.status,
  );
}
