import { existsSync, openSync, readFileSync, writeSync } from 'node:fs';

/** The shortest lease the contract allows: a killed worker's tasks come back after 5 s. */
export const LEASE_SECONDS = 5;
/** One task in LONG_TASK_EVERY runs 2–4 s, long enough for heartbeats (every 5/3 s) to extend its lease. */
export const LONG_TASK_EVERY = 100;

/**
 * What a worker process of the exactly-once test writes down, one JSON line
 * per entry, synchronously: a line written before a SIGKILL is in the
 * kernel's hands and survives it. `lease` is the lease expiry the port
 * granted (as the port wrote it); `t` is the worker's wall clock in ms.
 */
export type JournalEntry = { task: string; attempt: number; worker: string; t: number } & (
  | /** The handler began; `lease` is the expiry the claim granted. */
    { e: 'start'; lease: string }
    /** The handler returned (the completion is sent next). */
  | { e: 'end' }
  /** A heartbeat was accepted and extended the lease to `lease`. */
  | { e: 'beat'; lease: string }
  /** The port accepted the `succeeded` completion. */
  | { e: 'done' }
  /** The port said this worker no longer holds the lease (409 lease_lost or 404). */
  | { e: 'lost'; via: 'heartbeat' | 'complete' }
);

/** Appends entries to one file with plain write(2) calls (no buffering in this process). */
export function openJournal(path: string): (entry: JournalEntry) => void {
  const fd = openSync(path, 'a');
  return (entry) => {
    writeSync(fd, `${JSON.stringify(entry)}\n`);
  };
}

/** Reads a journal; a last line cut short by a SIGKILL is dropped, and a process killed before it opened one has none. */
export function readJournal(path: string): JournalEntry[] {
  const entries: JournalEntry[] = [];
  if (!existsSync(path)) return entries;
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, index) => {
    if (line === '') return;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch (error) {
      // write(2) of a short line is not torn in practice, but only the last line could be.
      if (index < lines.length - 2) throw error;
    }
  });
  return entries;
}

/** Worker ids name their process: `p<process>-w<worker>`. */
export function workerId(processNumber: number, worker: number): string {
  return `p${processNumber}-w${worker}`;
}

export function processOf(worker: string): number {
  const match = /^p(\d+)-w\d+$/.exec(worker);
  if (!match) throw new Error(`not a worker id of this test: ${worker}`);
  return Number(match[1]);
}

/**
 * An ISO timestamp as microseconds since the epoch (exact in a double), so
 * the port's lease expiries compare with Postgres's times at full precision.
 */
export function epochMicros(iso: string): number {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::?\d\d)?)$/.exec(iso);
  if (!match) throw new Error(`not an ISO timestamp: ${iso}`);
  const zone = match[3]!.length === 3 ? `${match[3]}:00` : match[3]!;
  const seconds = Date.parse(`${match[1]}${zone}`);
  if (Number.isNaN(seconds)) throw new Error(`not an ISO timestamp: ${iso}`);
  return seconds * 1000 + Number((match[2] ?? '').padEnd(6, '0'));
}
