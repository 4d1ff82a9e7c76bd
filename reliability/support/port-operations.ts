import { ENDPOINTS, MAX_BODY_BYTES, type Endpoint, type Scope } from '@omnihub/contracts';
import type { SeededRandom } from './seeded-random.ts';

/**
 * The port's operations as its own OpenAPI document lists them, so a test
 * that walks them covers an endpoint added later without being edited.
 */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
}

export interface PortOperation {
  /** The OpenAPI operationId, which is also the ENDPOINTS key. */
  id: string;
  method: 'GET' | 'POST';
  /** In OpenAPI form: /tasks/{id}/heartbeat */
  path: string;
  /** The key must hold one of these; null for operations without a key. */
  scopes: Scope[] | null;
  pathParams: string[];
  /** The request body's alternative shapes, with every $ref resolved; empty without a body. */
  bodies: JsonSchema[];
  /** The same bodies as the server's own schemas: the oracle for "would the port accept this?". */
  zodBodies: NonNullable<Endpoint['body']>;
}

interface OpenApiOperation {
  operationId: string;
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  'x-required-scopes'?: Scope[];
}

/** Reads GET /openapi.json from the running port. */
export async function loadOperations(portUrl: string): Promise<PortOperation[]> {
  const response = await fetch(`${portUrl}/openapi.json`);
  if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
  const document = (await response.json()) as {
    paths: Record<string, Record<string, OpenApiOperation>>;
    components?: { schemas?: Record<string, JsonSchema> };
  };
  const components = document.components?.schemas ?? {};
  const operations: PortOperation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const endpoint = (ENDPOINTS as Record<string, Endpoint>)[operation.operationId];
      if (!endpoint) {
        throw new Error(
          `operation ${operation.operationId} is not in ENDPOINTS of @omnihub/contracts`,
        );
      }
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      const resolved = schema ? resolveRefs(schema, components) : undefined;
      operations.push({
        id: operation.operationId,
        method: method.toUpperCase() as 'GET' | 'POST',
        path,
        scopes:
          operation.security && operation.security.length === 0
            ? null
            : (operation['x-required-scopes'] ?? []),
        pathParams: (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        bodies: resolved ? (resolved.oneOf ?? resolved.anyOf ?? [resolved]) : [],
        zodBodies: endpoint.body ?? [],
      });
    }
  }
  return operations;
}

function resolveRefs(
  schema: JsonSchema,
  components: Record<string, JsonSchema>,
  depth = 0,
): JsonSchema {
  if (depth > 20) throw new Error('schema references nest too deeply (a cycle?)');
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = components[name];
    if (!target) throw new Error(`unresolvable ${schema.$ref}`);
    return resolveRefs(target, components, depth + 1);
  }
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, resolveRefs(v, components, depth + 1)]),
    );
  }
  if (schema.items) out.items = resolveRefs(schema.items, components, depth + 1);
  if (schema.anyOf) out.anyOf = schema.anyOf.map((s) => resolveRefs(s, components, depth + 1));
  if (schema.oneOf) out.oneOf = schema.oneOf.map((s) => resolveRefs(s, components, depth + 1));
  return out;
}

/** The operation's path with its parameters filled in (encoded as given). */
export function fillPath(operation: PortOperation, id: string): string {
  return operation.path.replace(/\{[^}]+\}/g, id);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether the port would accept this body, judged as the port judges it (the
 * same size limit, strict UTF-8, empty reads as {}, the same zod schemas).
 * Used to make sure a generated "bad" request really is bad.
 */
export function bodyIsAcceptable(operation: PortOperation, body: string | Uint8Array): boolean {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  if (bytes.byteLength > MAX_BODY_BYTES) return false;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return false;
  }
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      return false;
    }
  }
  return operation.zodBodies.some((schema) => {
    try {
      return schema.safeParse(value).success;
    } catch {
      // The port answers a validator that runs out of stack with 400 too.
      return false;
    }
  });
}

// -- Valid bodies ----------------------------------------------------------

/** Where a valid request points: the ids and names that make it one the port would carry out. */
export interface SampleContext {
  /** For uuid fields (task_id, depends_on). */
  taskId: string;
  workerId: string;
  /** The key's integration source: for target and source. */
  source: string;
  /** A fresh idempotency key each time, so a carried-out control writes something new. */
  idempotencyKey: () => string;
}

/** Names of sources, targets, actions and event types in the contract. */
const IDENTIFIER_PATTERN = '^[a-z0-9_.:-]{1,100}$';

/** Values for fields whose meaning the schema alone does not give (a worker holds a lease, a key has a source). */
const FIELD_HINTS: Record<string, (context: SampleContext) => unknown> = {
  worker_id: (c) => c.workerId,
  target: (c) => c.source,
  source: (c) => c.source,
  idempotency_key: (c) => c.idempotencyKey(),
  task_id: (c) => c.taskId,
};

export const schemaTypes = (schema: JsonSchema): Set<string> | 'any' => {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const all = new Set<string>();
    for (const branch of branches) {
      const types = schemaTypes(branch);
      if (types === 'any') return 'any';
      types.forEach((t) => all.add(t));
    }
    return all;
  }
  if (schema.enum) return new Set(schema.enum.map((v) => (v === null ? 'null' : typeof v)));
  if (schema.type === undefined) return schema.properties ? new Set(['object']) : 'any';
  return new Set(Array.isArray(schema.type) ? schema.type : [schema.type]);
};

/** The non-null branch of a nullable schema (anyOf [X, null]), else the schema itself. */
export function mainBranch(schema: JsonSchema): JsonSchema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (!branches) return schema;
  return branches.find((b) => b.type !== 'null') ?? branches[0]!;
}

/**
 * A body the port would accept and carry out: required fields always,
 * optional ones with probability `optional`. Throws on a constraint it cannot
 * satisfy, so a new kind of field shows up as a clear test failure.
 */
export function sampleValue(
  schema: JsonSchema,
  context: SampleContext,
  random: SeededRandom,
  optional: number,
  name?: string,
): unknown {
  const hint = name !== undefined ? FIELD_HINTS[name] : undefined;
  if (hint) return hint(context);
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches) {
    const nonNull = branches.filter((b) => b.type !== 'null');
    return sampleValue(random.pick(nonNull), context, random, optional, name);
  }
  if (schema.enum) return schema.enum[0];
  const types = schemaTypes(schema);
  if (types === 'any') return random.pick(['probe', { ok: true }, 1]);
  const type = [...types].find((t) => t !== 'null')!;
  switch (type) {
    case 'object': {
      if (!schema.properties) return random.chance(0.5) ? {} : { note: 'probe' };
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties)) {
        if (schema.required?.includes(key) || random.chance(optional)) {
          out[key] = sampleValue(child, context, random, optional, key);
        }
      }
      return out;
    }
    case 'array': {
      const count = Math.max(schema.minItems ?? 0, random.chance(optional) ? 1 : 0);
      return Array.from({ length: count }, () =>
        sampleValue(schema.items ?? {}, context, random, optional),
      );
    }
    case 'string': {
      if (schema.format === 'uuid') return context.taskId;
      if (schema.format === 'date-time') return '2026-11-21T10:00:00Z';
      if (schema.pattern === IDENTIFIER_PATTERN) return 'probe';
      if (schema.pattern)
        throw new Error(`sampleValue: no valid example known for pattern ${schema.pattern}`);
      return 'p'.repeat(Math.max(schema.minLength ?? 1, 1));
    }
    case 'integer':
    case 'number':
      return (schema.default as number | undefined) ?? schema.minimum ?? 1;
    case 'boolean':
      return (schema.default as boolean | undefined) ?? false;
    default:
      throw new Error(`sampleValue: cannot make a value of type ${type}`);
  }
}

/** A valid body for `operation` (one of its shapes at random). */
export function sampleBody(
  operation: PortOperation,
  context: SampleContext,
  random: SeededRandom,
  optional = 0.5,
): { shape: JsonSchema; value: unknown } {
  const shape = random.pick(operation.bodies);
  return { shape, value: sampleValue(shape, context, random, optional) };
}
