import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@omnihub/database';
import {
  createTestDatabase,
  issueKey,
  type IssuedKey,
  type TestDatabase,
} from '@omnihub/database/testing';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { startLocalStack, type LocalStack } from './stack.ts';

export interface TestStack {
  db: TestDatabase;
  stack: LocalStack;
  issueKey(options: Parameters<typeof issueKey>[1]): Promise<IssuedKey>;
  /** The connector settings for a key: what an agent would have in its .env. */
  agentEnv(key: IssuedKey, workerId?: string): Record<string, string>;
  /** A user who can sign in with email and password, optionally a member of a tenant. */
  createUser(options: {
    email?: string;
    password?: string;
    tenantId?: string;
    role?: 'viewer' | 'operator' | 'admin';
  }): Promise<{ id: string; email: string; password: string }>;
  /**
   * The real supabase-js client on this stack, as OmniDash uses it (anon key;
   * sign in for a user session). Node 20 has no global WebSocket: Realtime
   * gets the ws package, the transport supabase-js documents for that case.
   */
  supabase(key?: string, options?: { vsn?: '1.0.0' | '2.0.0' }): SupabaseClient;
  /** An access token for `user`, signed with the stack's keys (what a sign-in would return). */
  accessToken(user: { id: string; email: string }): Promise<string>;
  /**
   * supabase-js acting as a signed-in user, with `token` for REST, RPCs and
   * Realtime. Resolves once Realtime holds the token: supabase-js sets it
   * asynchronously, and a channel joined before would join as anon.
   */
  supabaseAs(token: string, options?: { vsn?: '1.0.0' | '2.0.0' }): Promise<SupabaseClient>;
  /** Creates a task through the port's POST /tasks with `key`; returns its id. */
  createTask(key: IssuedKey, body: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** The real local stack (the port over HTTP under /functions/v1) on a fresh test database. */
export async function startTestStack(
  env: Record<string, string | undefined> = {},
  options: { dashboardDir?: string; leaseSweepMs?: number; scheduleTickMs?: number } = {},
): Promise<TestStack> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'omnihub-stack-test-'));
  const stack = await startLocalStack({
    dataDir,
    port: await freePort(),
    databaseUrl: db.url,
    env,
    dashboardDir: options.dashboardDir,
    leaseSweepMs: options.leaseSweepMs,
    scheduleTickMs: options.scheduleTickMs,
  });
  return {
    db,
    stack,
    issueKey: (options) => issueKey(db.sql, options),
    agentEnv: (key, workerId = `${key.source}-test`) => ({
      OMNIHUB_BASE_URL: stack.functionsUrl,
      OMNIHUB_API_KEY: key.apiKey,
      OMNIHUB_SOURCE: key.source,
      OMNIHUB_WORKER_ID: workerId,
    }),
    async createUser({
      email = `user-${crypto.randomUUID()}@example.test`,
      password = `pw-${crypto.randomUUID()}`,
      tenantId,
      role = 'viewer',
    }) {
      const [user] = await db.sql`
        insert into auth.users (email, encrypted_password, email_confirmed_at)
        values (${email}, extensions.crypt(${password}, extensions.gen_salt('bf', 4)), now())
        returning id`;
      if (tenantId) {
        await db.sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenantId}, ${user!.id}, ${role})`;
      }
      return { id: user!.id as string, email, password };
    },
    supabase: (key = stack.anonKey, options: { vsn?: '1.0.0' | '2.0.0' } = {}) =>
      createClient(stack.apiUrl, key, {
        auth: { persistSession: false, autoRefreshToken: false },
        realtime: { transport: WebSocket as never, ...(options.vsn ? { vsn: options.vsn } : {}) },
      }),
    async accessToken(user) {
      return (await stack.jwt.signAccessToken(user, crypto.randomUUID())).token;
    },
    async supabaseAs(token, options = {}) {
      const client = createClient(stack.apiUrl, stack.anonKey, {
        accessToken: async () => token,
        realtime: { transport: WebSocket as never, ...(options.vsn ? { vsn: options.vsn } : {}) },
      });
      await client.realtime.setAuth(token);
      return client;
    },
    async createTask(key, body) {
      const response = await fetch(`${stack.portUrl}/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as { task?: { id: string } };
      if (response.status !== 201 || !answer.task)
        throw new Error(`POST /tasks answered ${response.status}: ${JSON.stringify(answer)}`);
      return answer.task.id;
    },
    async close() {
      await stack.stop();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
