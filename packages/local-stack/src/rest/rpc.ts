import type { Catalog, CatalogSnapshot, Routine } from './catalog.ts';
import { requestErrors, schemaErrors } from './errors.ts';
import { runStatement, withFreshCatalog } from './execute.ts';
import {
  appliedPreferences,
  contentRange,
  negotiateMedia,
  parsePreferences,
} from './negotiation.ts';
import { splitRpcQuery } from './query-grammar.ts';
import type { RestContext, RestRequest, RestResponse } from './rest-types.ts';
import { callStatement } from './sql-builder.ts';
import { closestName } from './similarity.ts';

/**
 * /rpc/:fn: calls a function of `public` with named arguments, from a JSON
 * object (POST) or the query string (GET, HEAD), and renders its result as
 * PostgREST does: a scalar or a composite as one JSON value, a set as an
 * array, void as 204.
 */
export async function serveRpc(
  context: RestContext,
  request: RestRequest,
  name: string,
): Promise<RestResponse> {
  const { method } = request;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST')
    throw requestErrors.rpcMethod(method);
  const media = negotiateMedia(request.header('accept'));
  const preferences = parsePreferences(request.header('prefer'));

  let argsJson: string;
  let keys: string[];
  let extra: string[];
  if (method === 'POST') {
    const text = await request.body();
    argsJson = text.trim() === '' ? '{}' : text;
    let args: unknown;
    try {
      args = JSON.parse(argsJson);
    } catch {
      throw requestErrors.invalidBody();
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args))
      throw requestErrors.invalidBody();
    keys = Object.keys(args);
    extra = [...request.url.searchParams.keys()];
  } else {
    const split = splitRpcQuery(request.url.searchParams);
    const args = Object.fromEntries(split.args);
    argsJson = JSON.stringify(args);
    keys = Object.keys(args);
    extra = split.other;
  }
  // select=* is what supabase-js may add; anything else would shape the result.
  const shaping = extra.filter(
    (key) => !(key === 'select' && request.url.searchParams.get(key) === '*'),
  );
  if (shaping.length > 0)
    throw requestErrors.notImplemented(
      `Filters, select, order, limit and offset on a function's result (${shaping.join(', ')}) are not supported by the local stack.`,
    );

  const { routine, result } = await withFreshCatalog(async () => {
    const routine = await resolveRoutine(context.catalog, name, keys, method === 'POST');
    const args = routine.params.filter((param) => keys.includes(param.name));
    const result = await runStatement(
      context.sql,
      context.catalog,
      request.identity,
      callStatement(routine, args, argsJson, media, { count: preferences.count !== undefined }),
      {
        readOnly: method !== 'POST' || routine.volatility !== 'v',
        singular:
          media.singular &&
          (routine.returns === 'setof scalar' || routine.returns === 'setof composite'),
      },
    );
    return { routine, result };
  });

  const headers = {
    'Content-Range': contentRange(0, result.rows, result.total),
    ...appliedPreferences([preferences.count && `count=${preferences.count}`]),
  };
  if (routine.returns === 'void') return { status: 204, headers, body: null };
  return {
    status: 200,
    headers: {
      ...headers,
      'Content-Type': media.contentType,
      ...(request.profileSent ? { 'Content-Profile': 'public' } : {}),
    },
    body: method === 'HEAD' ? null : result.body,
  };
}

/**
 * PostgREST's overload resolution: the function of that name whose
 * parameters include every given key and whose parameters without a default
 * are all given. A miss reads the catalog again first (the function may be new).
 */
async function resolveRoutine(
  catalog: Catalog,
  name: string,
  keys: string[],
  viaPost: boolean,
): Promise<Routine> {
  const candidates = (snapshot: CatalogSnapshot) =>
    (snapshot.routines.get(name) ?? []).filter(
      (routine) =>
        keys.every((key) => routine.params.some((param) => param.name === key)) &&
        routine.params.every((param) => param.hasDefault || keys.includes(param.name)),
    );
  const snapshot = await catalog.fresh((candidate) => candidates(candidate).length > 0);
  const found = candidates(snapshot);
  // Of several, one taking exactly the given keys wins; otherwise it is ambiguous.
  const exact = found.filter((routine) => routine.params.length === keys.length);
  const chosen = found.length === 1 ? found[0] : exact.length === 1 ? exact[0] : undefined;
  if (chosen) return chosen;
  if (found.length > 1)
    throw schemaErrors.ambiguousFunction(
      found.map(
        (routine) =>
          `public.${routine.name}(${routine.params.map((param) => `${param.name} => ${param.type}`).join(', ')})`,
      ),
    );

  const overloads = snapshot.routines.get(name);
  let hint: string | null = null;
  if (overloads && overloads[0]) {
    const params = overloads[0].params.map((param) => param.name).sort();
    hint = `Perhaps you meant to call the function public.${name}(${params.join(', ')})`;
  } else {
    const suggestion = closestName(name, snapshot.routines.keys());
    if (suggestion !== undefined)
      hint = `Perhaps you meant to call the function public.${suggestion}`;
  }
  throw schemaErrors.noFunction(name, keys, viaPost, hint);
}
