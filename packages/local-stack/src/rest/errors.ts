import postgres from 'postgres';

/**
 * Every refusal /rest/v1 makes is one of these: PostgREST's error body and
 * status, or (for the API key) the gateway's. The body is kept as given so
 * supabase-js sees byte-for-byte what it sees on a Supabase project.
 */
export class RestError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${status}`);
    this.name = 'RestError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** PostgREST's four-key error body; `details` and `hint` are null when there is nothing to say. */
function pgrst(
  status: number,
  code: string,
  message: string,
  details: string | null = null,
  hint: string | null = null,
  headers: Record<string, string> = {},
): RestError {
  return new RestError(status, { code, message, details, hint }, headers);
}

/** Request errors, with PostgREST's codes (PGRST1xx) and statuses. */
export const requestErrors = {
  queryParam: (message: string, details: string) => pgrst(400, 'PGRST100', message, details),
  rpcMethod: (method: string) => pgrst(405, 'PGRST101', `Cannot use the ${method} method on RPC`),
  invalidBody: (message = 'Empty or invalid json') => pgrst(400, 'PGRST102', message),
  invalidRange: (details: string) =>
    pgrst(416, 'PGRST103', 'Requested range not satisfiable', details),
  unacceptableSchema: (schema: string) =>
    pgrst(
      406,
      'PGRST106',
      `Invalid schema: ${schema}`,
      null,
      'Only the following schemas are exposed: public',
    ),
  mediaType: (mediaTypes: string[]) =>
    pgrst(406, 'PGRST107', `None of these media types are available: ${mediaTypes.join(', ')}`),
  notEmbedded: (resource: string) =>
    pgrst(
      400,
      'PGRST108',
      `'${resource}' is not an embedded resource in this request`,
      null,
      `Verify that '${resource}' is included in the 'select' query parameter.`,
    ),
  singularity: (rows: number) =>
    pgrst(
      406,
      'PGRST116',
      'Cannot coerce the result to a single JSON object',
      `The result contains ${rows} rows`,
    ),
  unsupportedMethod: (method: string) =>
    pgrst(405, 'PGRST117', `Unsupported HTTP method: ${method}`),
  invalidPath: () => pgrst(404, 'PGRST125', 'Invalid path specified in request URL'),
  rootDisabled: () => pgrst(404, 'PGRST126', 'Root endpoint metadata is disabled'),
  /** A PostgREST feature this stand-in deliberately leaves out: said plainly, never silently ignored. */
  notImplemented: (details: string) => pgrst(400, 'PGRST127', 'Feature not implemented', details),
};

/** Schema cache errors (PGRST2xx): what PostgREST answers before it ever reaches Postgres. */
export const schemaErrors = {
  noRelationship: (parent: string, child: string) =>
    pgrst(
      400,
      'PGRST200',
      `Could not find a relationship between '${parent}' and '${child}' in the schema cache`,
      `Searched for a foreign key relationship between '${parent}' and '${child}' in the schema 'public', but no matches were found.`,
    ),
  noFunction: (name: string, argumentNames: string[], viaPost: boolean, hint: string | null) => {
    const sorted = [...argumentNames].sort();
    const signature = sorted.length === 0 ? ' without parameters' : `(${sorted.join(', ')})`;
    const searched =
      sorted.length === 0
        ? ' without parameters'
        : ` with parameter${sorted.length > 1 ? 's' : ''} ${sorted.join(', ')}`;
    return pgrst(
      404,
      'PGRST202',
      `Could not find the function public.${name}${signature} in the schema cache`,
      `Searched for the function public.${name}${searched}${
        viaPost ? ' or with a single unnamed json/jsonb parameter' : ''
      }, but no matches were found in the schema cache.`,
      hint,
    );
  },
  ambiguousFunction: (signatures: string[]) =>
    pgrst(
      300,
      'PGRST203',
      `Could not choose the best candidate function between: ${signatures.join(', ')}`,
      null,
      'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    ),
  columnNotFound: (table: string, column: string) =>
    pgrst(
      400,
      'PGRST204',
      `Could not find the '${column}' column of '${table}' in the schema cache`,
    ),
  tableNotFound: (name: string, suggestion: string | undefined) =>
    pgrst(
      404,
      'PGRST205',
      `Could not find the table 'public.${name}' in the schema cache`,
      null,
      suggestion === undefined ? null : `Perhaps you meant the table 'public.${suggestion}'`,
    ),
  /**
   * A column the catalog does not know, named in select, a filter or order.
   * PostgREST passes those to Postgres, so the answer is Postgres's own 42703.
   */
  undefinedColumn: (table: string, column: string) =>
    pgrst(400, '42703', `column ${table}.${column} does not exist`),
};

/** The JWT errors of PostgREST 13 (PGRST301 undecodable, PGRST303 bad claims), 401 with the RFC 6750 header. */
export function jwtError(
  code: 'PGRST301' | 'PGRST303',
  message: string,
  details: string | null = null,
): RestError {
  return pgrst(401, code, message, details, null, {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description=${JSON.stringify(message)}`,
  });
}

/**
 * PostgREST's SQLSTATE → HTTP status table (PostgREST.Error mapSQLtoHTTP),
 * in its order: the first matching line wins (so 25006 is 405 although the
 * rest of class 25 is 500). `authed` is whether the request ran as a role
 * other than anon: an insufficient privilege is then 403, for anon 401.
 */
export function statusForSqlState(code: string, message: string, authed: boolean): number {
  const rules: [string, number | (() => number)][] = [
    ['08', 503],
    ['09', 500],
    ['0L', 403],
    ['0P', 403],
    ['23503', 409],
    ['23505', 409],
    ['25006', 405],
    // 400 only for pg-safeupdate's "UPDATE requires a WHERE clause".
    ['21000', () => (message.endsWith('requires a WHERE clause') ? 400 : 500)],
    // A JWT role that does not exist is the client's fault.
    ['22023', () => (message.startsWith('role') && message.endsWith('does not exist') ? 401 : 400)],
    ['25', 500],
    ['28', 403],
    ['2D', 500],
    ['38', 500],
    ['39', 500],
    ['3B', 500],
    ['40', 500],
    ['53400', 500],
    ['53', 503],
    ['54', 500],
    ['55', 500],
    ['57P01', 503],
    ['57', 500],
    ['58', 500],
    ['F0', 500],
    ['HV', 500],
    ['P0001', 400],
    // Every other PL/pgSQL error, P0002 no_data_found included, is a 500 to PostgREST.
    ['P0', 500],
    ['XX', 500],
    ['42883', () => (message.startsWith('function xmlagg(') ? 406 : 404)],
    ['42P01', 404],
    ['42P17', 500],
    ['42501', authed ? 403 : 401],
    // RAISE … USING ERRCODE = 'PT409' chooses the status; an unusable number is a 500.
    ['PT', () => (/^PT[1-5]\d\d$/.test(code) ? Number(code.slice(2)) : 500)],
  ];
  for (const [prefix, status] of rules) {
    if (code.startsWith(prefix)) return typeof status === 'number' ? status : status();
  }
  return 400;
}

/** Errors Postgres raised while running the request's statement, rendered as PostgREST does. */
export function fromDatabaseError(error: postgres.PostgresError, authed: boolean): RestError {
  if (error.code === 'PGRST') return fromRaisePgrst(error);
  const status = statusForSqlState(error.code, error.message, authed);
  return pgrst(
    status,
    error.code,
    error.message,
    error.detail ?? null,
    error.hint ?? null,
    status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {},
  );
}

/**
 * `RAISE SQLSTATE 'PGRST' USING MESSAGE = '{"code":…,"message":…}', DETAIL =
 * '{"status":…,"headers":{…}}'`: PostgREST's way for SQL to choose the whole
 * response. A malformed one is PostgREST's PGRST121 (500).
 */
function fromRaisePgrst(error: postgres.PostgresError): RestError {
  const parseError = (details: string, hint: string) =>
    pgrst(
      500,
      'PGRST121',
      'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
      details,
      hint,
    );
  const messageHint =
    "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.";
  const detailHint =
    "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.";
  const message = parseObject(error.message);
  if (!message || typeof message.code !== 'string' || typeof message.message !== 'string')
    return parseError(`Invalid JSON value for MESSAGE: '${error.message}'`, messageHint);
  if (error.detail === undefined)
    return parseError('DETAIL is missing in the RAISE statement', detailHint);
  const detail = parseObject(error.detail);
  if (
    !detail ||
    typeof detail.status !== 'number' ||
    typeof detail.headers !== 'object' ||
    detail.headers === null
  )
    return parseError(`Invalid JSON value for DETAIL: '${error.detail}'`, detailHint);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(detail.headers as Record<string, unknown>))
    headers[name] = String(value);
  return pgrst(
    detail.status,
    message.code,
    message.message,
    typeof message.details === 'string' ? message.details : null,
    typeof message.hint === 'string' ? message.hint : null,
    headers,
  );
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** postgres.js's own codes for a connection that failed or went away (not SQLSTATEs). */
const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/**
 * Turns anything thrown while serving a request into the response body.
 * Unexpected errors become a bare 500: their text (which may quote SQL) stays
 * on the server.
 */
export function toRestError(
  error: unknown,
  authed: boolean,
): { error: RestError; internal: boolean } {
  if (error instanceof RestError) return { error, internal: false };
  if (error instanceof postgres.PostgresError)
    return { error: fromDatabaseError(error, authed), internal: false };
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_FAILURES.has(code))
    return {
      error: pgrst(503, 'PGRST000', 'Database connection error. Retrying the connection.'),
      internal: true,
    };
  return {
    error: pgrst(500, 'PGRSTX00', 'Internal server error'),
    internal: true,
  };
}
