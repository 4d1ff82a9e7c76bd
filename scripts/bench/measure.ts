/** Small measuring kit for the benchmark scripts: timed work, percentiles, peak memory, tables. */
import { readFileSync } from 'node:fs';

export interface Measurement {
  name: string;
  /** What one operation is ("task", "event"). */
  unit: string;
  operations: number;
  seconds: number;
  /** Per-operation (or per-request) latencies in milliseconds. */
  latencies: number[];
  /** Peak resident memory of the process(es) doing the work, in MiB, when measured. */
  peakRssMiB?: number;
  /** A short name for the ratio column of rows compared with this one (default: `name`). */
  label?: string;
}

/** One line of a benchmark's table: a measurement, and what it is compared with. */
export interface BenchRow {
  measurement: Measurement;
  /** Measured in the same run on the same Postgres; each ratio is throughput / baseline throughput. */
  baselines?: Measurement[];
}

/** A target from the issue, and whether this run met it. */
export interface Target {
  what: string;
  measured: string;
  met: boolean;
}

/** What one benchmark reports: its table, its targets and notes on how it was measured. */
export interface BenchSection {
  title: string;
  /** How it was measured, one paragraph. */
  method: string;
  rows: BenchRow[];
  targets: Target[];
  notes?: string[];
}

export interface BenchOptions {
  /** Fewer operations: the whole `pnpm bench --quick` stays under two minutes. */
  quick: boolean;
  /** Progress lines. */
  log: (line: string) => void;
}

export interface Benchmark {
  /** Selects it with `pnpm bench --only <name>`. */
  name: string;
  run(options: BenchOptions): Promise<BenchSection>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** p50/p95/p99 of a measurement's latencies. */
export function latencyPercentiles(m: Measurement): { p50: number; p95: number; p99: number } {
  const sorted = [...m.latencies].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

export const throughput = (m: Measurement): number => m.operations / m.seconds;

/**
 * Runs `worker` in `concurrency` parallel loops until it returns 0; each call
 * returns how many operations it completed. Only calls that did work count
 * toward the latencies.
 */
export async function runLoad(
  name: string,
  unit: string,
  concurrency: number,
  worker: (loop: number) => Promise<number>,
): Promise<Measurement> {
  const latencies: number[] = [];
  let operations = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (;;) {
        const t0 = performance.now();
        const done = await worker(loop);
        if (done === 0) return;
        latencies.push(performance.now() - t0);
        operations += done;
      }
    }),
  );
  return { name, unit, operations, seconds: (performance.now() - started) / 1000, latencies };
}

/** A shared budget of calls: `take()` is true until `calls` have been handed out. */
export function callBudget(calls: number): { take(): boolean } {
  let left = calls;
  return { take: () => left-- > 0 };
}

/** Resident memory of a process in MiB, from /proc (Linux); NaN elsewhere or once it has exited. */
export function rssMiB(pid: number = process.pid): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
    return kib / 1024;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc (Linux); 0 when unknown. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * Samples the resident memory of `pids` (summed) every `everyMs` until
 * stop(), which returns the highest sum seen. Sampling rather than VmHWM:
 * the peak of one phase, not of the process's whole life.
 */
export function watchPeakRss(pids: () => number[], everyMs = 25): { stop(): number } {
  let peak = 0;
  const sample = () => {
    const sum = pids().reduce((total, pid) => total + (rssMiB(pid) || 0), 0);
    peak = Math.max(peak, sum);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

const formatNumber = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : '–';

const HEADER = [
  'benchmark',
  'ops',
  'seconds',
  'throughput',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'peak RSS MiB',
  'vs baseline',
];

function cells({ measurement: m, baselines = [] }: BenchRow): string[] {
  const { p50, p95, p99 } = latencyPercentiles(m);
  return [
    m.name,
    formatNumber(m.operations),
    m.seconds.toFixed(2),
    `${formatNumber(throughput(m))} ${m.unit}s/s`,
    formatNumber(p50, 2),
    formatNumber(p95, 2),
    formatNumber(p99, 2),
    m.peakRssMiB === undefined ? '–' : formatNumber(m.peakRssMiB),
    baselines
      .map(
        (baseline) =>
          `${(throughput(m) / throughput(baseline)).toFixed(2)}× ${baseline.label ?? baseline.name}`,
      )
      .join(', '),
  ];
}

/** The rows as a Markdown table (also readable in a terminal). */
export function renderTable(rows: BenchRow[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const render = (line: string[]) =>
    `| ${line.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [
    render(HEADER),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...table.slice(1).map(render),
  ].join('\n');
}

export function printTable(rows: BenchRow[]): void {
  console.log(renderTable(rows));
}

/** A section as Markdown: title, method, table, targets, notes. */
export function renderSection(section: BenchSection): string {
  const parts = [`## ${section.title}`, section.method, renderTable(section.rows)];
  if (section.targets.length > 0) {
    parts.push(
      section.targets
        .map(
          (target) =>
            `- ${target.met ? '✅' : '❌'} ${target.what}: ${target.measured}${target.met ? '' : ' (missed)'}`,
        )
        .join('\n'),
    );
  }
  if (section.notes?.length) parts.push(section.notes.map((note) => `- ${note}`).join('\n'));
  return parts.join('\n\n');
}
