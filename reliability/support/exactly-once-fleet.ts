import { join } from 'node:path';
import { startProcess, tsxCommand, type RunningProcess } from '@omnihub/database/testing';

const [node, args] = tsxCommand('reliability/support/exactly-once-worker.ts');

export interface FleetOptions {
  /** Worker processes running at any time (a killed one is replaced at once). */
  slots: number;
  workersPerProcess: number;
  concurrency: number;
  /** Env of every worker: OMNIHUB_BASE_URL, OMNIHUB_API_KEY, OMNIHUB_SOURCE; slot i uses bases[i % bases.length]. */
  bases: string[];
  env: Record<string, string>;
  journalDir: string;
  seed: string;
}

interface WorkerProcess {
  number: number;
  process: RunningProcess;
  /** Completions the port accepted, as the process last reported. */
  progress: number;
  /** Set before the test signals it, so its exit is expected. */
  stopping: boolean;
}

/**
 * The exactly-once test's worker processes (exactly-once-worker.ts), one
 * per slot: SIGKILL one and a replacement with new worker ids takes its
 * slot. Sums the processes' `progress` lines, so kills can be scheduled by
 * how far the run got rather than by time, and remembers any exit the test
 * did not cause.
 */
export class WorkerFleet {
  readonly #options: FleetOptions;
  readonly #slots: WorkerProcess[] = [];
  readonly #all: WorkerProcess[] = [];
  readonly #killed = new Set<number>();
  readonly #listeners = new Set<() => void>();
  readonly unexpectedExits: string[] = [];

  constructor(options: FleetOptions) {
    this.#options = options;
    for (let slot = 0; slot < options.slots; slot++) this.#slots.push(this.#start(slot));
  }

  /** Accepted completions over every process so far, killed ones included. */
  get progress(): number {
    return this.#all.reduce((sum, worker) => sum + worker.progress, 0);
  }

  /** Process numbers the fleet SIGKILLed. */
  get killed(): ReadonlySet<number> {
    return this.#killed;
  }

  get journals(): string[] {
    return this.#all.map((worker) => this.#journal(worker.number));
  }

  /** Calls `listener` whenever some process reports progress. */
  onProgress(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once every slot's process runs its workers; rejects if one fails to start. */
  async ready(): Promise<void> {
    await Promise.all(this.#slots.map((worker) => worker.process.waitFor(/workers ready/, 90_000)));
  }

  /** SIGKILLs the process in `slot` and starts a replacement there. */
  kill(slot: number): number {
    const victim = this.#slots[slot]!;
    victim.stopping = true;
    this.#killed.add(victim.number);
    victim.process.child.kill('SIGKILL');
    this.#slots[slot] = this.#start(slot);
    return victim.number;
  }

  /** Stops every live process gracefully (SIGTERM: running handlers finish) and waits for the exits. */
  async stop(): Promise<void> {
    const live = this.#all.filter(
      (worker) => worker.process.child.exitCode === null && !worker.stopping,
    );
    for (const worker of live) {
      worker.stopping = true;
      worker.process.child.kill('SIGTERM');
    }
    const codes = await Promise.all(live.map((worker) => worker.process.exited));
    codes.forEach((code, index) => {
      if (code !== 0) this.unexpectedExits.push(describeExit(live[index]!, code));
    });
  }

  /** Kills whatever still runs (after a failure) and waits for the exits. */
  async destroy(): Promise<void> {
    for (const worker of this.#all) {
      if (worker.process.child.exitCode === null && worker.process.child.signalCode === null) {
        worker.stopping = true;
        worker.process.child.kill('SIGKILL');
      }
    }
    await Promise.all(this.#all.map((worker) => worker.process.exited));
  }

  /** The last lines of every process that printed something besides progress: retries, lost leases, errors. */
  notes(maxLines = 40): string {
    const lines = this.#all.flatMap((worker) =>
      worker.process
        .output()
        .split('\n')
        .filter((line) => line !== '' && !/^(progress \d+|workers ready)$/.test(line))
        .map((line) => `p${worker.number}: ${line}`),
    );
    return lines.slice(-maxLines).join('\n');
  }

  #journal(number: number): string {
    return join(this.#options.journalDir, `p${number}.jsonl`);
  }

  #start(slot: number): WorkerProcess {
    const options = this.#options;
    const number = this.#all.length;
    const process = startProcess(node, args, {
      env: {
        ...options.env,
        OMNIHUB_BASE_URL: options.bases[slot % options.bases.length]!,
        EXACTLY_ONCE_JOURNAL: this.#journal(number),
        EXACTLY_ONCE_PROCESS: String(number),
        EXACTLY_ONCE_WORKERS: String(options.workersPerProcess),
        EXACTLY_ONCE_CONCURRENCY: String(options.concurrency),
        EXACTLY_ONCE_SEED: options.seed,
      },
    });
    const worker: WorkerProcess = { number, process, progress: 0, stopping: false };
    let pending = '';
    process.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      let moved = false;
      for (const line of lines) {
        const match = /^progress (\d+)$/.exec(line);
        if (match) {
          worker.progress = Number(match[1]);
          moved = true;
        }
      }
      if (moved) for (const listener of [...this.#listeners]) listener();
    });
    void process.exited.then((code) => {
      if (!worker.stopping) this.unexpectedExits.push(describeExit(worker, code));
    });
    this.#all.push(worker);
    return worker;
  }
}

function describeExit(worker: WorkerProcess, code: number | string): string {
  const tail = worker.process.output().split('\n').slice(-10).join('\n');
  return `worker process p${worker.number} exited (${code}) unasked:\n${tail}`;
}
