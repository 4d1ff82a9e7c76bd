/**
 * Stack start: `pnpm dev` from an existing data dir until it prints that it
 * is ready, and where that time goes (node and tsx loading the code,
 * Postgres starting, then the migrations check, demo keys and listening),
 * read from the timestamps of its output and of Postgres's log.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  connectDatabase,
  migrateDatabase,
  REPO_ROOT,
  runningEmbeddedPort,
  startEmbeddedPostgres,
} from '@omnihub/database';
import { startProcess, tsxCommand, type RunningProcess } from '@omnihub/database/testing';
import {
  latencyPercentiles,
  renderSection,
  rssMiB,
  type Benchmark,
  type BenchOptions,
  type BenchRow,
  type BenchSection,
  type Measurement,
} from './measure.ts';
import {
  DEV_READY,
  DEV_STARTING,
  freePortPair,
  spawnDev,
  stopDev,
  stopLeftoverPostgres,
  tempDir,
} from './stack-support.ts';

const TARGET_MS = 5_000;
const READY_TIMEOUT_MS = 120_000;
const POSTGRES_READY = 'database system is ready to accept connections';

/** One timed start: spawn → ready, and its phases (NaN where a phase could not be told apart). */
interface Start {
  totalMs: number;
  /** Spawn → "Starting Postgres…": node, tsx, and loading every module dev.ts imports. */
  loadMs: number;
  /** "Starting Postgres…" → Postgres's "ready to accept connections" (from its log's timestamp). */
  postgresMs: number;
  /** Postgres ready → the banner: connections, migrations check, seed, demo keys, LISTEN, HTTP listen, Realtime slot. */
  afterPostgresMs: number;
  /** SIGINT → exit. */
  stopMs: number;
  /** The dev process's resident memory just after ready, MiB. */
  rssAtReadyMiB: number;
}

async function run({ quick, log }: BenchOptions): Promise<BenchSection> {
  const runs = quick ? 2 : 5;
  const dir = await tempDir('start');
  const port = await freePortPair();
  const logPath = join(dir.path, 'postgres.log');
  try {
    log('stack-start: first pnpm dev on an empty data dir (not timed)…');
    const first = spawnDev(dir.path, port);
    try {
      await first.waitFor(DEV_READY, READY_TIMEOUT_MS);
    } finally {
      await stopDev(first);
    }

    const starts: Start[] = [];
    for (let i = 0; i < runs; i++) {
      starts.push(await timedStart(() => spawnDev(dir.path, port), logPath, false));
      log(`stack-start: start ${i + 1}/${runs}: ${starts.at(-1)!.totalMs.toFixed(0)} ms`);
    }
    const viaPnpm: Start[] = [];
    for (let i = 0; i < runs; i++) {
      viaPnpm.push(await timedStart(() => spawnPnpmDev(dir.path, port), logPath, true));
      log(`stack-start: via pnpm ${i + 1}/${runs}: ${viaPnpm.at(-1)!.totalMs.toFixed(0)} ms`);
    }

    const [node, tsxArgs] = tsxCommand('scripts/dev.ts');
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const child = spawn(node, [...tsxArgs.slice(0, 2), '-e', ''], { stdio: 'ignore' });
      await once(child, 'exit');
      bare.push(performance.now() - t0);
    }

    // Postgres starting and the migrations check (the bulk of "after Postgres"), each alone, in this process.
    const postgresAlone: number[] = [];
    const migrationsCheck: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const postgres = await startEmbeddedPostgres({ dataDir: dir.path, port: port + 1 });
      postgresAlone.push(performance.now() - t0);
      const sql = connectDatabase(postgres.url, { max: 2, applicationName: 'bench-start' });
      try {
        const t1 = performance.now();
        await migrateDatabase(sql, { seed: true });
        migrationsCheck.push(performance.now() - t1);
      } finally {
        await sql.end({ timeout: 2 });
        await postgres.stop();
      }
    }

    const row = (name: string, latencies: number[], peakRssMiB?: number): BenchRow => ({
      measurement: {
        name,
        unit: 'start',
        operations: latencies.length,
        seconds: latencies.reduce((sum, ms) => sum + ms, 0) / 1000,
        latencies,
        ...(peakRssMiB === undefined ? {} : { peakRssMiB }),
      },
    });
    const pick = (key: keyof Start, from = starts) =>
      from.map((start) => start[key]).filter(Number.isFinite);
    const devRow = row(
      'pnpm dev --skip-build, node + tsx (as the script runs it)',
      pick('totalMs'),
      Math.max(...pick('rssAtReadyMiB')),
    );
    const pnpmRow = row('pnpm dev --skip-build, through pnpm', pick('totalMs', viaPnpm));
    const rows: BenchRow[] = [
      pnpmRow,
      devRow,
      row('  phase: node + tsx + loading modules', pick('loadMs')),
      row('  phase: Postgres start', pick('postgresMs')),
      row('  phase: migrations check, keys, listen', pick('afterPostgresMs')),
      row('  alone: node + tsx, empty program', bare),
      row('  alone: embedded Postgres start (in process)', postgresAlone),
      row('  alone: migrateDatabase with seed, nothing pending', migrationsCheck),
      row('stop: SIGINT → exit', pick('stopMs')),
    ];
    const target = (m: Measurement, what: string) => {
      const { p50, p95 } = latencyPercentiles(m);
      return {
        what: `${what}: ≤ ${TARGET_MS / 1000} s`,
        measured: `p50 ${(p50 / 1000).toFixed(2)} s, p95 ${(p95 / 1000).toFixed(2)} s`,
        met: p95 <= TARGET_MS,
      };
    };
    return {
      title: 'Stack start',
      method:
        `\`pnpm dev --skip-build\` on a temp data dir and a free port: one start to create the data dir (not timed), ` +
        `then ${runs} starts from the existing data dir, each timed from spawn to the banner's last line ("Press Ctrl-C to stop."), ` +
        `then stopped with SIGINT and awaited. "node + tsx" spawns scripts/dev.ts as the pnpm script does; "through pnpm" spawns \`pnpm dev\` ` +
        `itself (pnpm's own start included). Phases: spawn → "Starting Postgres…" on stdout; → Postgres's "${POSTGRES_READY}" (its log's timestamp); → the banner. ` +
        `The "alone" rows time those parts by themselves, one after another, not concurrently with anything. One row per step, p50/p95 over the starts; ` +
        `"peak RSS" is the dev process's resident memory at ready. Throughput is meaningless here.`,
      rows,
      targets: [target(pnpmRow.measurement, '`pnpm dev` from an existing data dir to ready')],
    };
  } finally {
    await stopLeftoverPostgres(dir.path);
    await dir.remove();
  }
}

/** `pnpm dev --skip-build` as typed in a terminal, in its own process group (Ctrl-C reaches pnpm and dev). */
function spawnPnpmDev(dataDir: string, port: number): RunningProcess {
  return startProcess('pnpm', ['dev', '--skip-build'], {
    cwd: REPO_ROOT,
    detached: true,
    env: {
      OMNIHUB_DATA_DIR: dataDir,
      OMNIHUB_LOCAL_PORT: String(port),
      DATABASE_URL: '',
      OMNIHUB_ADMIN_PASSWORD: undefined,
      OMNIHUB_DASHBOARD_DIR: undefined,
    },
  });
}

async function timedStart(
  start: () => RunningProcess,
  logPath: string,
  processGroup: boolean,
): Promise<Start> {
  const running = runningEmbeddedPort(dirname(logPath));
  if (running !== null) throw new Error(`Postgres of the last start still runs on port ${running}`);
  const logOffset = (await stat(logPath)).size;
  const wallAtSpawn = Date.now();
  const t0 = performance.now();
  const dev = start();
  let stopMs = Number.NaN;
  try {
    await dev.waitFor(DEV_STARTING, READY_TIMEOUT_MS);
    const loadMs = performance.now() - t0;
    await dev.waitFor(DEV_READY, READY_TIMEOUT_MS);
    const totalMs = performance.now() - t0;
    const rssAtReadyMiB = processGroup ? Number.NaN : rssMiB(dev.child.pid!);
    const postgresReadyMs = (await postgresReadyAt(logPath, logOffset)) - wallAtSpawn;
    const s0 = performance.now();
    await stop(dev, processGroup);
    stopMs = performance.now() - s0;
    if (runningEmbeddedPort(dirname(logPath)) !== null)
      throw new Error(`pnpm dev exited but left its Postgres running:\n${dev.output()}`);
    return {
      totalMs,
      loadMs,
      postgresMs: postgresReadyMs - loadMs,
      afterPostgresMs: totalMs - postgresReadyMs,
      stopMs,
      rssAtReadyMiB,
    };
  } finally {
    if (Number.isNaN(stopMs)) await stop(dev, processGroup);
  }
}

async function stop(dev: RunningProcess, processGroup: boolean): Promise<void> {
  if (!processGroup) {
    await stopDev(dev);
    return;
  }
  const group = dev.child.pid!;
  try {
    process.kill(-group, 'SIGINT'); // the whole group, as a terminal's Ctrl-C
  } catch {
    return; // nothing left in it
  }
  await dev.exited;
  // pnpm exits on the signal at once; dev.ts may still be stopping Postgres.
  // Nothing signals the end of a grandchild, so the group is looked at until
  // it is empty (dev.ts exits only after Postgres has).
  const deadline = performance.now() + 30_000;
  for (;;) {
    try {
      process.kill(-group, 0);
    } catch {
      return;
    }
    if (performance.now() > deadline) {
      process.kill(-group, 'SIGKILL');
      throw new Error('pnpm dev was still stopping 30 s after Ctrl-C');
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * When Postgres said it was ready, in epoch ms, from the first such line
 * written after `offset` (its default log_line_prefix starts with the time
 * in ms, "2026-11-21 20:33:49.720 UTC"); NaN if the log has none in UTC.
 */
async function postgresReadyAt(logPath: string, offset: number): Promise<number> {
  const file = await open(logPath, 'r');
  try {
    const { size } = await file.stat();
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await file.read(buffer, 0, buffer.length, offset);
    const line = buffer
      .toString('utf8')
      .split('\n')
      .find((text) => text.includes(POSTGRES_READY));
    const stamp = line?.match(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) (UTC|GMT) /);
    return stamp ? Date.parse(`${stamp[1]}T${stamp[2]}Z`) : Number.NaN;
  } finally {
    await file.close();
  }
}

export const stackStart: Benchmark = { name: 'stack-start', run };

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const section = await stackStart.run({
    quick: process.argv.includes('--quick'),
    log: console.log,
  });
  console.log(`\n${renderSection(section)}`);
}
