import { z } from 'zod';
import { ENDPOINTS, MetricsResponse, type Endpoint } from './endpoints.ts';
import { ERROR_STATUS, ErrorResponse, type ErrorCode } from './errors.ts';
import {
  EmitEventBatchRequestBody,
  EmitEventBatchResponse,
  EmitEventRequestBody,
  EmitEventResponse,
} from './events.ts';
import { HealthResponse, OpenApiDocumentResponse, WhoAmIResponse } from './health.ts';
import {
  ClaimTasksRequestBody,
  ClaimTasksResponse,
  CompleteTaskRequestBody,
  CompleteTasksRequestBody,
  CompleteTasksResponse,
  CreateTaskRequestBody,
  CreateTaskResponse,
  HeartbeatRequestBody,
  HeartbeatResponse,
  StatsResponse,
  Task,
  TaskResponse,
} from './tasks.ts';

/** Names under `components.schemas`. Requests are rendered as input (defaults optional), responses as output. */
const REQUEST_SCHEMAS = {
  EmitEventRequestBody,
  EmitEventBatchRequestBody,
  CreateTaskRequestBody,
  ClaimTasksRequestBody,
  HeartbeatRequestBody,
  CompleteTaskRequestBody,
  CompleteTasksRequestBody,
};
const RESPONSE_SCHEMAS = {
  HealthResponse,
  OpenApiDocumentResponse,
  EmitEventResponse,
  EmitEventBatchResponse,
  Task,
  TaskResponse,
  CreateTaskResponse,
  ClaimTasksResponse,
  HeartbeatResponse,
  CompleteTasksResponse,
  WhoAmIResponse,
  StatsResponse,
  MetricsResponse,
  ErrorResponse,
};

type JsonSchema = Record<string, unknown>;

function componentSchemas(
  schemas: Record<string, z.ZodType>,
  io: 'input' | 'output',
): { schemas: Record<string, JsonSchema>; refOf: Map<z.ZodType, string> } {
  const registry = z.registry<{ id: string }>();
  const refOf = new Map<z.ZodType, string>();
  for (const [id, schema] of Object.entries(schemas)) {
    registry.add(schema, { id });
    refOf.set(schema, `#/components/schemas/${id}`);
  }
  const generated = z.toJSONSchema(registry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas as Record<string, JsonSchema>;
  for (const schema of Object.values(generated)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return { schemas: generated, refOf };
}

function ref(refOf: Map<z.ZodType, string>, schema: z.ZodType): JsonSchema {
  const target = refOf.get(schema);
  if (!target) throw new Error('schema missing from the OpenAPI component list');
  return { $ref: target };
}

/** The OpenAPI 3.1 document of the port, generated from the same schemas the port validates with. */
export function buildOpenApiDocument(options: { version: string; serverUrl?: string }) {
  const requests = componentSchemas(REQUEST_SCHEMAS, 'input');
  const responses = componentSchemas(RESPONSE_SCHEMAS, 'output');

  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, endpoint] of Object.entries(ENDPOINTS) as [string, Endpoint][]) {
    const operation: Record<string, unknown> = {
      operationId: name,
      summary: endpoint.summary,
      security: endpoint.scopes ? [{ apiKey: [] }] : [],
      responses: {
        ...Object.fromEntries(
          Object.entries(endpoint.responses).map(([status, response]) => [
            status,
            {
              description: response.description,
              content: {
                [response.mediaType ?? 'application/json']: {
                  schema: ref(responses.refOf, response.schema),
                },
              },
            },
          ]),
        ),
        ...errorResponses(endpoint.errors, responses.refOf),
      },
    };
    if (endpoint.scopes) {
      operation['x-required-scopes'] = endpoint.scopes;
      operation.description = `Requires a key with ${endpoint.scopes.length > 1 ? 'any of ' : ''}scope ${endpoint.scopes.map((s) => `\`${s}\``).join(', ')}.`;
    }
    if (endpoint.path.includes('{id}')) {
      operation.parameters = [
        { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
      ];
    }
    if (endpoint.body) {
      const bodies = endpoint.body.map((schema) => ref(requests.refOf, schema));
      operation.requestBody = {
        required: true,
        content: {
          'application/json': { schema: bodies.length === 1 ? bodies[0] : { oneOf: bodies } },
        },
      };
    }
    if (name === 'emitEvents') {
      // One path, two response bodies depending on the request's shape.
      (operation.responses as Record<string, unknown>)['200'] = {
        description: endpoint.responses[200]?.description,
        content: {
          'application/json': {
            schema: {
              oneOf: [
                ref(responses.refOf, EmitEventResponse),
                ref(responses.refOf, EmitEventBatchResponse),
              ],
            },
          },
        },
      };
    }
    (paths[endpoint.path] ??= {})[endpoint.method] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'OmniLink Port',
      version: options.version,
      description:
        'The single front door for OmniHub agents: telemetry, task creation, claims with leases, heartbeats and completion. Authenticate with `Authorization: Bearer omni.<key_id>.<secret>`.',
    },
    servers: options.serverUrl ? [{ url: options.serverUrl }] : [],
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'omni.<key_id>.<secret>',
        },
      },
      schemas: { ...requests.schemas, ...responses.schemas },
    },
    paths,
  };
}

function errorResponses(codes: readonly ErrorCode[], refOf: Map<z.ZodType, string>) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [
      String(status),
      {
        description: `Error: ${statusCodes.map((code) => `\`${code}\``).join(', ')}.`,
        content: { 'application/json': { schema: ref(refOf, ErrorResponse) } },
      },
    ]),
  );
}
