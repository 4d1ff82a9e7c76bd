import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectDatabase,
  freePort,
  migrateDatabase,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
  type Sql,
} from '@omnihub/database';
import { startProcess, tsxCommand, type RunningProcess } from '@omnihub/database/testing';

/**
 * A migrated Postgres of the restart suite's own: the suite stops it under
 * load, so it cannot be the shared test server. stop() is Postgres's fast
 * shutdown (clients are cut off, committed data is checkpointed) and start()
 * brings the same cluster back on the same port, so every client's URL stays
 * valid and every committed row is still there.
 */
export class RestartablePostgres {
  #handle: EmbeddedPostgresHandle | null = null;
  /** A superuser client for arranging and inspecting; it reconnects by itself after a restart. */
  readonly sql: Sql;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly url: string,
  ) {
    this.sql = connectDatabase(url, { max: 4, applicationName: 'restarts-test' });
  }

  static async start(): Promise<RestartablePostgres> {
    const dataDir = await mkdtemp(join(tmpdir(), 'omnihub-restarts-'));
    const port = await freePort();
    const handle = await startEmbeddedPostgres({ dataDir, port, settings: SETTINGS });
    const pg = new RestartablePostgres(dataDir, port, handle.url);
    pg.#handle = handle;
    await migrateDatabase(pg.sql);
    return pg;
  }

  get running(): boolean {
    return this.#handle !== null;
  }

  /** Fast shutdown; resolves once the server process has exited. */
  async stop(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.stop();
  }

  /** Starts the same cluster again, on the same port. */
  async start(): Promise<void> {
    if (this.#handle) return;
    this.#handle = await startEmbeddedPostgres({
      dataDir: this.dataDir,
      port: this.port,
      settings: SETTINGS,
    });
  }

  /** Stops the server and removes its files; safe to call after a failure, and twice. */
  async close(): Promise<void> {
    await this.sql.end({ timeout: 2 }).catch(() => {});
    await this.stop().catch(() => {});
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

// fsync off is safe here: stop() is a clean shutdown that writes everything
// out, and the machine itself never crashes in a test. synchronous_commit
// stays on, so a commit the port reports is in the WAL before the answer.
const SETTINGS = { fsync: 'off', full_page_writes: 'off', max_connections: '100' };

export interface PortProcess {
  /** e.g. http://127.0.0.1:40123/omnilink-port */
  url: string;
  port: number;
  pid: number;
  process: RunningProcess;
  /** Still running (not exited, not signalled). */
  alive(): boolean;
  /** Sends `signal` and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Runs scripts/port-server.ts as its own process on `port` (0: a free one).
 * Restarting it on the port it had keeps every client's base URL valid.
 */
export async function startPortProcess(databaseUrl: string, port = 0): Promise<PortProcess> {
  const child = startProcess(...tsxCommand('scripts/port-server.ts'), {
    env: { DATABASE_URL: databaseUrl, PORT: String(port), PORT_LOG: 'quiet' },
  });
  try {
    const [, url, pid] = await child.waitFor(/port ready (\S+) pid (\d+)/, 60_000);
    return {
      url: url!,
      port: Number(new URL(url!).port),
      pid: Number(pid),
      process: child,
      alive: () => child.child.exitCode === null && child.child.signalCode === null,
      async kill(signal) {
        if (child.child.exitCode === null && child.child.signalCode === null) {
          child.child.kill(signal);
          await child.exited;
        }
      },
    };
  } catch (error) {
    child.child.kill('SIGKILL');
    throw error;
  }
}
