/**
 * A graphile-worker process for the baselines in graphile.ts, run alone so
 * its peak RSS is its own. Argument: the JSON of GraphileChildOptions.
 *
 * Protocol (one line each): it prints `graphile ready pid <pid>` once its
 * schema is installed and it is idle, LISTENing for `jobs:insert`; in
 * latency mode it prints `started <jobId> <epoch ms>` as each handler starts
 * and `idle` each time its worker finds no job and waits for a notification.
 * On `stop` (stdin) or SIGTERM it shuts down gracefully — batched completions
 * are flushed — and prints `graphile stopped succeeded <n> failed <n>`.
 * Graphile's own log goes to stderr, warnings and errors only.
 */
import { createInterface } from 'node:readline';
import { EventEmitter } from 'node:events';
import { Logger, run, type WorkerEvents } from 'graphile-worker';

export interface GraphileChildOptions {
  connectionString: string;
  mode: 'throughput' | 'latency';
  concurrency: number;
  maxPoolSize: number;
  /** localQueue.size; omitted = no local queue (graphile's default). */
  localQueueSize?: number;
  /** completeJobBatchDelay and failJobBatchDelay in ms; omitted = no batching (graphile's default). */
  batchDelayMs?: number;
}

const options = JSON.parse(process.argv[2] ?? '') as GraphileChildOptions;

const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning')
    process.stderr.write(`graphile ${level}: ${message}\n`);
});

let succeeded = 0;
let failed = 0;
const events: WorkerEvents = new EventEmitter();
events.on('job:success', () => succeeded++);
events.on('job:error', () => failed++);
const listening = new Promise<void>((resolve) =>
  events.once('pool:listen:success', () => resolve()),
);

const latencyMode = options.mode === 'latency';
if (latencyMode) events.on('worker:getJob:empty', () => process.stdout.write('idle\n'));

const runner = await run({
  connectionString: options.connectionString,
  concurrency: options.concurrency,
  maxPoolSize: options.maxPoolSize,
  noHandleSignals: true,
  logger,
  events,
  crontab: '',
  taskList: {
    noop: latencyMode
      ? async (_payload, helpers) => {
          // Same clock as the parent's add time: wall-clock origin + monotonic offset.
          process.stdout.write(
            `started ${helpers.job.id} ${performance.timeOrigin + performance.now()}\n`,
          );
        }
      : async () => {},
  },
  preset: {
    worker: {
      ...(options.localQueueSize ? { localQueue: { size: options.localQueueSize } } : {}),
      ...(options.batchDelayMs !== undefined
        ? { completeJobBatchDelay: options.batchDelayMs, failJobBatchDelay: options.batchDelayMs }
        : {}),
    },
  },
});
runner.promise.catch((error: unknown) => {
  process.stderr.write(`graphile runner failed: ${String(error)}\n`);
  process.exit(1);
});
await listening;

let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= runner.stop().then(() => {
    process.stdout.write(`graphile stopped succeeded ${succeeded} failed ${failed}\n`);
    process.exit(0);
  }));
process.on('SIGTERM', () => void stop());
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop') void stop();
});
// The parent went away without saying stop: don't linger.
process.stdin.on('end', () => void stop());

process.stdout.write(`graphile ready pid ${process.pid}\n`);
