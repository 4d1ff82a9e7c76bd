import type { Catalog, Table } from './catalog.ts';
import { requestErrors, schemaErrors } from './errors.ts';
import { runStatement, withFreshCatalog } from './execute.ts';
import {
  appliedPreferences,
  contentRange,
  negotiateMedia,
  parsePreferences,
  requestedRange,
  type Media,
} from './negotiation.ts';
import { parseTableQuery, referencedColumns, type TableQuery } from './query-grammar.ts';
import type { RestContext, RestRequest, RestResponse } from './rest-types.ts';
import {
  deleteStatement,
  insertStatement,
  readStatement,
  updateStatement,
  type InsertGroup,
  type Returning,
} from './sql-builder.ts';
import { closestName } from './similarity.ts';

/** /:table: reads (GET, HEAD) and writes (POST, PATCH, DELETE) of one table or view of `public`. */
export async function serveTable(
  context: RestContext,
  request: RestRequest,
  name: string,
): Promise<RestResponse> {
  switch (request.method) {
    case 'GET':
    case 'HEAD':
      return withFreshCatalog(() => read(context, request, name));
    case 'POST':
      return withFreshCatalog(() => insert(context, request, name));
    case 'PATCH':
      return withFreshCatalog(() => update(context, request, name));
    case 'DELETE':
      return withFreshCatalog(() => remove(context, request, name));
    case 'PUT':
      throw requestErrors.notImplemented(
        'PUT (upsert of one row by primary key) is not supported by the local stack.',
      );
    default:
      throw requestErrors.unsupportedMethod(request.method);
  }
}

/**
 * The table, with every column the request names. A name missing from the
 * cached catalog makes it read the catalog again before the request is
 * refused with PostgREST's error for that name.
 */
async function resolveTable(
  catalog: Catalog,
  name: string,
  columns: string[],
  bodyColumns: string[] = [],
): Promise<Table> {
  const needed = [...columns, ...bodyColumns];
  const snapshot = await catalog.fresh((candidate) => {
    const table = candidate.tables.get(name);
    return table !== undefined && needed.every((column) => table.columns.has(column));
  });
  const table = snapshot.tables.get(name);
  if (!table) throw schemaErrors.tableNotFound(name, closestName(name, snapshot.tables.keys()));
  // PostgREST checks a body's keys while planning, before Postgres sees select or filters.
  const unknownBodyColumn = bodyColumns.find((column) => !table.columns.has(column));
  if (unknownBodyColumn !== undefined) throw schemaErrors.columnNotFound(name, unknownBodyColumn);
  const unknownColumn = columns.find((column) => !table.columns.has(column));
  if (unknownColumn !== undefined) throw schemaErrors.undefinedColumn(name, unknownColumn);
  return table;
}

function contentTypeHeaders(request: RestRequest, media: Media): Record<string, string> {
  return {
    'Content-Type': media.contentType,
    ...(request.profileSent ? { 'Content-Profile': 'public' } : {}),
  };
}

async function read(
  context: RestContext,
  request: RestRequest,
  name: string,
): Promise<RestResponse> {
  const media = negotiateMedia(request.header('accept'));
  const query = parseTableQuery(request.url.searchParams, name);
  const preferences = parsePreferences(request.header('prefer'));
  const range = requestedRange(request.method, request.header('range'), query.limit, query.offset);
  const table = await resolveTable(context.catalog, name, referencedColumns(query));
  const { maxRows } = context;
  const result = await runStatement(
    context.sql,
    context.catalog,
    request.identity,
    readStatement({
      table,
      select: query.select,
      conditions: query.conditions,
      order: query.order,
      offset: range.offset,
      // db-max-rows caps every read, asked-for limit or not (PostgREST's restrictRange).
      limit: maxRows === undefined ? range.limit : Math.min(range.limit ?? maxRows, maxRows),
      count: preferences.count,
      maxRows,
      shape: media,
    }),
    { readOnly: true, singular: media.singular },
  );

  const { total } = result;
  if (total !== undefined && range.offset > total)
    throw requestErrors.invalidRange(
      `An offset of ${range.offset} was requested, but there are only ${total} rows.`,
    );
  return {
    // 206 tells a client that asked for a count that this page is not all of it.
    status: total !== undefined && result.rows < total ? 206 : 200,
    headers: {
      'Content-Range': contentRange(range.offset, result.rows, total),
      ...contentTypeHeaders(request, media),
      ...appliedPreferences([preferences.count && `count=${preferences.count}`]),
    },
    body: request.method === 'HEAD' ? null : result.body,
  };
}

/** What return= asks a write to send back: the selected columns of the rows, or nothing. */
function returning(
  query: TableQuery,
  representation: boolean,
  media: Media,
): Returning | undefined {
  return representation ? { select: query.select, order: query.order, shape: media } : undefined;
}

/** A JSON body: an object, or (for inserts) an array of objects. */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw requestErrors.invalidBody();
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rangeNotSupported(query: TableQuery): void {
  // PostgREST 13 dropped limited updates and deletes; a silently ignored limit would touch every row.
  if (query.limit !== undefined || query.offset !== undefined)
    throw requestErrors.notImplemented(
      'limit and offset on PATCH and DELETE are not supported by the local stack (nor by PostgREST 13).',
    );
}

async function insert(
  context: RestContext,
  request: RestRequest,
  name: string,
): Promise<RestResponse> {
  const media = negotiateMedia(request.header('accept'));
  const query = parseTableQuery(request.url.searchParams, name);
  const preferences = parsePreferences(request.header('prefer'));
  if (preferences.resolution !== undefined)
    throw requestErrors.notImplemented(
      'Upserts (Prefer: resolution=merge-duplicates or ignore-duplicates) are not supported by the local stack.',
    );
  if (query.conditions.length > 0)
    throw requestErrors.notImplemented('Filters on POST are not supported by the local stack.');

  const text = await request.body();
  const body = parseBody(text);
  const bodyIsArray = Array.isArray(body);
  if (!(bodyIsArray ? body.every(isObject) : isObject(body))) throw requestErrors.invalidBody();
  const objects = (bodyIsArray ? body : [body]) as Record<string, unknown>[];
  let columns = query.columns;
  if (columns === undefined) {
    // Without columns=, PostgREST takes the keys of the (first) object, and all objects must agree.
    const keys = Object.keys(objects[0] ?? {});
    const same = (object: Record<string, unknown>) =>
      Object.keys(object).length === keys.length && keys.every((key) => key in object);
    if (!objects.every(same)) throw requestErrors.invalidBody('All object keys must match');
    columns = keys;
  }

  const representation = preferences.return === 'representation';
  const table = await resolveTable(
    context.catalog,
    name,
    representation ? referencedColumns({ ...query, conditions: [] }) : [],
    columns,
  );
  const result = await runStatement(
    context.sql,
    context.catalog,
    request.identity,
    insertStatement(
      table,
      text,
      bodyIsArray,
      insertGroups(objects, bodyIsArray, columns, preferences.missing === 'default'),
      returning(query, representation, media),
    ),
    { readOnly: false, singular: media.singular },
  );
  return {
    status: 201,
    headers: {
      'Content-Range': contentRange(1, 0, preferences.count ? result.rows : undefined),
      ...appliedPreferences([
        preferences.return && `return=${preferences.return}`,
        preferences.count && `count=${preferences.count}`,
        preferences.missing && `missing=${preferences.missing}`,
      ]),
      ...(representation ? contentTypeHeaders(request, media) : {}),
    },
    body: representation ? result.body : null,
  };
}

/**
 * Prefer: missing=default: objects with the same keys insert together, with
 * only those of the columns they have. Otherwise every object sets every
 * column, null where it lacks the key (PostgREST's default).
 */
function insertGroups(
  objects: Record<string, unknown>[],
  bodyIsArray: boolean,
  columns: string[],
  missingDefault: boolean,
): InsertGroup[] {
  if (!missingDefault || objects.length === 0) return [{ keys: undefined, columns }];
  // One object needs no grouping: it is the whole body.
  if (!bodyIsArray)
    return [{ keys: undefined, columns: columns.filter((column) => column in objects[0]!) }];
  const groups = new Map<string, InsertGroup>();
  for (const object of objects) {
    const keys = Object.keys(object).sort();
    const id = JSON.stringify(keys);
    if (!groups.has(id))
      groups.set(id, { keys, columns: columns.filter((column) => keys.includes(column)) });
  }
  return [...groups.values()];
}

async function update(
  context: RestContext,
  request: RestRequest,
  name: string,
): Promise<RestResponse> {
  const media = negotiateMedia(request.header('accept'));
  const query = parseTableQuery(request.url.searchParams, name);
  rangeNotSupported(query);
  const preferences = parsePreferences(request.header('prefer'));
  const text = await request.body();
  const body = parseBody(text);
  if (!isObject(body)) throw requestErrors.invalidBody();
  const columns = Object.keys(body);

  const representation = preferences.return === 'representation';
  const table = await resolveTable(
    context.catalog,
    name,
    referencedColumns({ ...query, select: representation ? query.select : [] }),
    columns,
  );
  const result = await runStatement(
    context.sql,
    context.catalog,
    request.identity,
    updateStatement(
      table,
      columns,
      text,
      query.conditions,
      returning(query, representation, media),
    ),
    { readOnly: false, singular: media.singular },
  );
  return mutationResponse(request, media, preferences, representation, result, 0);
}

async function remove(
  context: RestContext,
  request: RestRequest,
  name: string,
): Promise<RestResponse> {
  const media = negotiateMedia(request.header('accept'));
  const query = parseTableQuery(request.url.searchParams, name);
  rangeNotSupported(query);
  const preferences = parsePreferences(request.header('prefer'));
  const representation = preferences.return === 'representation';
  const table = await resolveTable(
    context.catalog,
    name,
    referencedColumns({ ...query, select: representation ? query.select : [] }),
  );
  const result = await runStatement(
    context.sql,
    context.catalog,
    request.identity,
    deleteStatement(table, query.conditions, returning(query, representation, media)),
    { readOnly: false, singular: media.singular },
  );
  return mutationResponse(request, media, preferences, representation, result, 1);
}

/** PATCH and DELETE: 200 with the rows for return=representation, else 204. */
function mutationResponse(
  request: RestRequest,
  media: Media,
  preferences: ReturnType<typeof parsePreferences>,
  representation: boolean,
  result: { rows: number; body: string },
  rangeStart: number,
): RestResponse {
  return {
    status: representation ? 200 : 204,
    headers: {
      // PostgREST writes 0-(n-1) for updates and */… for deletes.
      'Content-Range': contentRange(
        rangeStart,
        rangeStart === 0 ? result.rows : 0,
        preferences.count ? result.rows : undefined,
      ),
      ...appliedPreferences([
        preferences.return && `return=${preferences.return}`,
        preferences.count && `count=${preferences.count}`,
      ]),
      ...(representation ? contentTypeHeaders(request, media) : {}),
    },
    body: representation ? result.body : null,
  };
}
