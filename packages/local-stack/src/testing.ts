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
import { startLocalStack, type LocalStack } from './stack.ts';

export interface TestStack {
  db: TestDatabase;
  stack: LocalStack;
  issueKey(options: Parameters<typeof issueKey>[1]): Promise<IssuedKey>;
  /** The connector settings for a key: what an agent would have in its .env. */
  agentEnv(key: IssuedKey, workerId?: string): Record<string, string>;
  /** Creates a task through the port's POST /tasks with `key`; returns its id. */
  createTask(key: IssuedKey, body: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** The real local stack (the port over HTTP under /functions/v1) on a fresh test database. */
export async function startTestStack(
  env: Record<string, string | undefined> = {},
): Promise<TestStack> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'omnihub-stack-test-'));
  const stack = await startLocalStack({
    dataDir,
    port: await freePort(),
    databaseUrl: db.url,
    env,
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
