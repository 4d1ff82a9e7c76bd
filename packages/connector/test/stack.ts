import type { IssuedKey } from '@omnihub/database/testing';
import {
  startTestStack as startStack,
  type TestStack as Stack,
} from '@omnihub/local-stack/testing';
import { OmniHubConnector, type ConnectorOptions } from '../src/index.ts';

export interface TestStack extends Stack {
  /** A connector for `key`, logging into `logs`, retrying quickly. */
  connector(key: IssuedKey, options?: Omit<ConnectorOptions, 'env'>): OmniHubConnector;
  logs: string[];
}

export async function startTestStack(
  env: Record<string, string | undefined> = {},
): Promise<TestStack> {
  const stack = await startStack(env);
  const logs: string[] = [];
  return {
    ...stack,
    logs,
    connector: (key, options = {}) =>
      new OmniHubConnector({
        log: (line) => logs.push(line),
        retry: { maxElapsedMs: 10_000, initialDelayMs: 20, maxDelayMs: 200 },
        ...options,
        env: stack.agentEnv(key),
      }),
  };
}
