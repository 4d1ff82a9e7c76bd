/**
 * The OmniHub side of the task benchmarks, in a process of its own (so its
 * peak RSS is its own): `workers` connector TaskWorkers with a no-op handler,
 * each claiming up to `batch` tasks with long polls and, for batch > 1,
 * sending completions in batches. Reads JSON options from argv[2]; prints
 * `ready` once every worker waits in a long poll, `started <task id> <ms>`
 * as a handler starts and the worker's log lines when `report` is set
 * (dispatch latency), and exits on
 * `stop` (stdin) after the workers finished.
 */
import { createInterface } from 'node:readline';
import { OmniHubConnector, TaskWorker } from '@omnihub/connector';

export interface TaskWorkerChildOptions {
  baseUrl: string;
  apiKey: string;
  workers: number;
  batch: number;
  /** TaskWorker's completionBatchMs (0: one request per completion). */
  completionBatchMs: number;
  /** Print a line as each handler starts. */
  report: boolean;
}

const options = JSON.parse(process.argv[2]!) as TaskWorkerChildOptions;
let handled = 0;
const workers = Array.from({ length: options.workers }, (_, n) => {
  const connector = new OmniHubConnector({
    env: {},
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    workerId: `bench-${process.pid}-${n}`,
    log: () => {},
  });
  return new TaskWorker(
    connector,
    {
      noop: (task) => {
        handled++;
        if (options.report)
          console.log(`started ${task.id} ${performance.timeOrigin + performance.now()}`);
        return null;
      },
    },
    {
      concurrency: options.batch,
      completionBatchMs: options.completionBatchMs,
      waitMs: 20_000,
      leaseSeconds: 300,
      // With `report`, the "task <id> noop: succeeded in …" lines too: the task is recorded.
      log: options.report ? (line) => console.log(line) : () => {},
    },
  );
});
const running = Promise.all(workers.map((worker) => worker.run()));
// The first claims are in flight (and wait at the port) right after run().
console.log('ready');

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stop') break;
}
for (const worker of workers) worker.stop();
await running;
console.log(`stopped handled ${handled}`);
process.exit(0);
