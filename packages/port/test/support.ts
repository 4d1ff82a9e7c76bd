import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import {
  createTestDatabase,
  issueKey,
  type IssuedKey,
  type TestDatabase,
} from '@omnihub/database/testing';
import { createPortApp, TaskSignals, type PortAppOptions } from '../src/index.ts';
import type { PortEnv } from '../src/config.ts';

export interface PortResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  /** A full API key, or omit for no Authorization header. */
  key?: string;
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** Calls the port either in-process (app.request) or over real HTTP; both go through the whole Hono app. */
export class PortClient {
  constructor(private readonly fetcher: (path: string, init: RequestInit) => Promise<Response>) {}

  async request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<PortResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    let body: string | Uint8Array | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await this.fetcher(path, { method, headers, body });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  post<T = any>(path: string, key: string | undefined, body?: unknown) {
    return this.request<T>('POST', path, { key, body: body ?? {} });
  }

  get<T = any>(path: string, key?: string) {
    return this.request<T>('GET', path, { key });
  }
}

export interface RunningPort {
  /** e.g. http://127.0.0.1:40123/omnilink-port */
  baseUrl: string;
  signals: TaskSignals;
  close(): Promise<void>;
}

/** Serves a port app over real HTTP on a free loopback port, waking long polls by LISTEN/NOTIFY unless `listen: false`. */
export async function startPortServer(
  options: Omit<PortAppOptions, 'signals'> & { listen?: boolean },
): Promise<RunningPort> {
  const signals =
    options.listen === false ? TaskSignals.polling() : await TaskSignals.listen(options.sql);
  const app = createPortApp({ log: () => {}, ...options, signals });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve(
        { fetch: app.fetch, port: 0, hostname: '127.0.0.1' },
        (info: AddressInfo) => resolve({ server, port: info.port }),
      );
    },
  );
  return {
    baseUrl: `http://127.0.0.1:${port}/omnilink-port`,
    signals,
    async close() {
      await signals.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    },
  };
}

export interface PortHarness {
  db: TestDatabase;
  /** In-process client. */
  port: PortClient;
  /** Present when started with `http: true`. */
  http?: { client: PortClient; server: RunningPort };
  issueKey(options: Parameters<typeof issueKey>[1]): Promise<IssuedKey>;
  close(): Promise<void>;
}

/** A fresh database and a port app on it (and optionally a real HTTP server). */
export async function startPortHarness(
  options: { env?: PortEnv; http?: boolean; listen?: boolean } = {},
): Promise<PortHarness> {
  const db = await createTestDatabase();
  const app = createPortApp({ sql: db.sql, env: options.env, log: () => {} });
  const port = new PortClient(async (path, init) => app.request(`/omnilink-port${path}`, init));
  let http: PortHarness['http'];
  if (options.http) {
    const server = await startPortServer({ sql: db.sql, env: options.env, listen: options.listen });
    http = {
      server,
      client: new PortClient((path, init) => fetch(`${server.baseUrl}${path}`, init)),
    };
  }
  return {
    db,
    port,
    http,
    issueKey: (keyOptions) => issueKey(db.sql, keyOptions),
    async close() {
      await http?.server.close();
      await db.drop();
    },
  };
}

export const ALL_SCOPES = [
  'events:write',
  'tasks:create',
  'tasks:claim',
  'tasks:complete',
] as const;

/** Runs `fn` as a signed-in Supabase user, the way PostgREST does: role and JWT claims set for one transaction. */
export async function asUser<T>(
  sql: TestDatabase['sql'],
  userId: string,
  fn: (tx: TestDatabase['sql']) => Promise<T>,
): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: 'authenticated' })}, true)`;
    await tx.unsafe('set local role authenticated');
    return fn(tx as unknown as TestDatabase['sql']);
  }) as Promise<T>;
}

/** A user holding `role` in the tenant. */
export async function createMember(
  sql: TestDatabase['sql'],
  tenantId: string,
  role: 'viewer' | 'operator' | 'admin',
): Promise<string> {
  const [user] =
    await sql`insert into auth.users (email) values (${`${role}-${crypto.randomUUID()}@example.test`}) returning id`;
  await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenantId}, ${user!.id}, ${role})`;
  return user!.id as string;
}
