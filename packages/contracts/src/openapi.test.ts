import { describe, expect, it } from 'vitest';
import { ENDPOINTS, type Endpoint } from './endpoints.ts';
import { ERROR_STATUS } from './errors.ts';
import { buildOpenApiDocument } from './openapi.ts';

const doc = buildOpenApiDocument({ version: '1.2.3' });
const endpoints = Object.entries(ENDPOINTS) as [string, Endpoint][];
type Operation = {
  operationId: string;
  security: unknown[];
  'x-required-scopes'?: string[];
  description?: string;
  parameters?: unknown[];
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: Record<string, unknown> }> }
  >;
};

function operation(endpoint: Endpoint): Operation {
  const op = (doc.paths[endpoint.path] as Record<string, Operation> | undefined)?.[endpoint.method];
  if (!op) throw new Error(`no operation for ${endpoint.method} ${endpoint.path}`);
  return op;
}

/** Every `$ref` string anywhere below `node`, with where it was found. */
function collectRefs(node: unknown, at = '#', found: { at: string; ref: string }[] = []) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => collectRefs(item, `${at}/${i}`, found));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref') {
        expect(typeof value, `${at}/$ref`).toBe('string');
        found.push({ at, ref: value as string });
      } else {
        collectRefs(value, `${at}/${key}`, found);
      }
    }
  }
  return found;
}

describe('buildOpenApiDocument', () => {
  it('is an OpenAPI 3.1.0 document with the given version', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('1.2.3');
    expect(doc.servers).toEqual([]);
  });

  it('lists the server when a URL is given', () => {
    expect(
      buildOpenApiDocument({ version: '1', serverUrl: 'https://x.test/port' }).servers,
    ).toEqual([{ url: 'https://x.test/port' }]);
  });

  it.each(endpoints)('describes %s under its path and method', (name, endpoint) => {
    expect(operation(endpoint).operationId).toBe(name);
  });

  it('has no operation that is not in ENDPOINTS', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(endpoints.map(([, e]) => `${e.method} ${e.path}`).sort());
  });

  it('resolves every $ref to a components.schemas entry', () => {
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(0);
    const schemas = doc.components.schemas as Record<string, unknown>;
    for (const { at, ref } of refs) {
      const match = /^#\/components\/schemas\/([^/]+)$/.exec(ref);
      expect(match, `${ref} at ${at}`).not.toBeNull();
      expect(schemas, `${ref} at ${at}`).toHaveProperty([match![1]!]);
    }
  });

  it('leaves no $schema or $id inside the component schemas', () => {
    const text = JSON.stringify(doc.components.schemas);
    expect(text).not.toContain('"$schema"');
    expect(text).not.toContain('"$id"');
  });

  it.each(endpoints.filter(([, e]) => e.scopes !== null))(
    'declares security and the scopes for authenticated %s',
    (_name, endpoint) => {
      const op = operation(endpoint);
      expect(op.security).toEqual([{ apiKey: [] }]);
      expect(doc.components.securitySchemes).toHaveProperty('apiKey');
      expect(op['x-required-scopes']).toEqual(endpoint.scopes);
      for (const scope of endpoint.scopes!) expect(op.description).toContain(`\`${scope}\``);
    },
  );

  it.each(['health', 'openapi'] as const)(
    'gives %s an empty security list and no scopes',
    (name) => {
      const op = operation(ENDPOINTS[name]);
      expect(op.security).toEqual([]);
      expect(op).not.toHaveProperty('x-required-scopes');
    },
  );

  it.each(endpoints)(
    'documents every error status of %s with the error schema',
    (_name, endpoint) => {
      const op = operation(endpoint);
      for (const code of endpoint.errors) {
        const response = op.responses[String(ERROR_STATUS[code])];
        expect(response?.description, code).toContain(`\`${code}\``);
        expect(response?.content?.['application/json']?.schema).toEqual({
          $ref: '#/components/schemas/ErrorResponse',
        });
      }
    },
  );

  it.each(endpoints.filter(([, e]) => e.path.includes('{id}')))(
    'declares the id path parameter of %s',
    (_n, e) => {
      expect(operation(e).parameters).toEqual([
        { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
      ]);
    },
  );

  it('offers both body shapes for POST /events and a single ref elsewhere', () => {
    expect(
      operation(ENDPOINTS.emitEvents).requestBody?.content['application/json']?.schema,
    ).toEqual({
      oneOf: [
        { $ref: '#/components/schemas/EmitEventRequestBody' },
        { $ref: '#/components/schemas/EmitEventBatchRequestBody' },
      ],
    });
    expect(
      operation(ENDPOINTS.emitEvents).responses['200']?.content?.['application/json']?.schema,
    ).toEqual({
      oneOf: [
        { $ref: '#/components/schemas/EmitEventResponse' },
        { $ref: '#/components/schemas/EmitEventBatchResponse' },
      ],
    });
    expect(operation(ENDPOINTS.createTask).requestBody).toEqual({
      required: true,
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/CreateTaskRequestBody' } },
      },
    });
    expect(operation(ENDPOINTS.getTask)).not.toHaveProperty('requestBody');
  });

  it.each([
    ['CreateTaskRequestBody', ['target', 'action']],
    ['ClaimTasksRequestBody', ['worker_id']],
    ['HeartbeatRequestBody', ['worker_id']],
    ['CompleteTaskRequestBody', ['worker_id', 'status']],
    ['EmitEventRequestBody', ['type', 'idempotency_key']],
  ])('renders request defaults as optional: %s requires exactly %j', (name, required) => {
    const schema = (doc.components.schemas as Record<string, { required?: string[] }>)[name];
    expect(schema?.required).toEqual(required);
  });

  it('renders response defaults as required (responses are outputs)', () => {
    const task = (doc.components.schemas as Record<string, { required?: string[] }>).Task;
    expect(task?.required).toEqual(
      expect.arrayContaining(['id', 'status', 'output_truncated', 'depends_on']),
    );
  });

  it('refuses unknown fields in request bodies', () => {
    const schema = (doc.components.schemas as Record<string, { additionalProperties?: unknown }>)
      .CreateTaskRequestBody;
    expect(schema?.additionalProperties).toBe(false);
  });

  it('describes GET /metrics as Prometheus text, a string, not JSON', () => {
    const ok = operation(ENDPOINTS.metrics).responses['200'];
    expect(Object.keys(ok?.content ?? {})).toEqual(['text/plain; version=0.0.4; charset=utf-8']);
    expect(ok?.content?.['text/plain; version=0.0.4; charset=utf-8']?.schema).toEqual({
      $ref: '#/components/schemas/MetricsResponse',
    });
    expect(doc.components.schemas).toHaveProperty(['MetricsResponse', 'type'], 'string');
    // Its errors stay JSON, like every other endpoint's.
    expect(operation(ENDPOINTS.metrics).responses['403']?.content).toHaveProperty([
      'application/json',
    ]);
  });

  it('is plain JSON (survives a round trip unchanged)', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});
