import type { Scope } from '@omnihub/contracts';
import type { ApiKeyCredential } from './credentials.ts';
import type { PortDatabase } from './db.ts';
import type { TaskSignals } from './task-signals.ts';

/** One structured log line. The Authorization header and secrets never appear in one. */
export type PortLogger = (
  entry: { level: 'info' | 'warn' | 'error'; msg: string } & Record<string, unknown>,
) => void;

/** What the route groups need, given to them when the app is built (no globals). */
export interface PortDeps {
  db: PortDatabase;
  signals: TaskSignals;
  log: PortLogger;
  version: string;
}

export interface PortVariables {
  requestId: string;
  key: ApiKeyCredential;
  /** Scopes the current endpoint accepts (any one of them). */
  scopes: readonly Scope[];
}

export type PortHonoEnv = { Variables: PortVariables };
