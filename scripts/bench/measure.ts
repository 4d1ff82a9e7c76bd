/** Small measuring kit for the benchmark scripts: timed work, percentiles, a printed table. */

export interface Measurement {
  name: string;
  /** What one operation is ("task", "event"). */
  unit: string;
  operations: number;
  seconds: number;
  /** Per-request latencies in milliseconds. */
  latencies: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

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

export function printTable(rows: { measurement: Measurement; baseline?: Measurement }[]): void {
  const header = [
    'benchmark',
    'ops',
    'seconds',
    'throughput',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'vs baseline',
  ];
  const lines = rows.map(({ measurement: m, baseline }) => {
    const sorted = [...m.latencies].sort((a, b) => a - b);
    const rate = m.operations / m.seconds;
    const ratio = baseline
      ? (rate / (baseline.operations / baseline.seconds)).toFixed(2)
      : '(baseline)';
    return [
      m.name,
      String(m.operations),
      m.seconds.toFixed(2),
      `${Math.round(rate).toLocaleString('en-US')} ${m.unit}s/s`,
      percentile(sorted, 50).toFixed(2),
      percentile(sorted, 95).toFixed(2),
      percentile(sorted, 99).toFixed(2),
      ratio,
    ];
  });
  const table = [header, ...lines];
  const widths = header.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  const render = (line: string[]) =>
    `| ${line.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(render(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const line of lines) console.log(render(line));
}
