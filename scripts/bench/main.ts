/**
 * pnpm bench [--quick] [--only <name>[,<name>…]] — every benchmark, each on
 * a stack of its own, one table each (throughput, p50/p95/p99, peak RSS,
 * ratios to baselines measured in the same run). A full run (no --quick, no
 * --only) writes docs/benchmarks.md with the machine's description.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '@omnihub/database';
import { dashboardQueries } from './dashboard-queries.ts';
import { eventIngest } from './events.ts';
import { renderSection, type Benchmark, type BenchSection } from './measure.ts';
import { describeMachine, startPortStack } from './port-stack.ts';
import { realtimeFanout } from './realtime-fanout.ts';
import { stackStart } from './stack-start.ts';
import { dispatchLatency, taskThroughput } from './tasks.ts';

const BENCHMARKS: Benchmark[] = [
  taskThroughput,
  dispatchLatency,
  eventIngest,
  realtimeFanout,
  dashboardQueries,
  stackStart,
];

const USAGE = `Usage: pnpm bench [--quick] [--only <name>[,<name>…]]
  --quick  fewer operations (under two minutes in all), for spot checks
  --only   run only these: ${BENCHMARKS.map((b) => b.name).join(', ')}
A full run writes docs/benchmarks.md.`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  const quick = argv.includes('--quick');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1]?.split(',') : undefined;
  const unknown = only?.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (onlyAt >= 0 && (!only || unknown!.length > 0)) {
    console.error(`Unknown benchmark ${unknown?.join(', ') ?? '(none given)'}.\n${USAGE}`);
    return 2;
  }
  const chosen = BENCHMARKS.filter((b) => !only || only.includes(b.name));

  const machine = await machineLine();
  console.log(`Machine: ${machine}\n`);
  const started = performance.now();
  const sections: BenchSection[] = [];
  for (const benchmark of chosen) {
    const t0 = performance.now();
    console.log(`▶ ${benchmark.name}${quick ? ' (quick)' : ''}`);
    const section = await benchmark.run({ quick, log: (line) => console.log(`  ${line}`) });
    sections.push(section);
    console.log(`\n${renderSection(section)}\n`);
    console.log(`(${benchmark.name}: ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const missed = sections.flatMap((s) =>
    s.targets.filter((t) => !t.met).map((t) => `${s.title}: ${t.what}`),
  );
  console.log(
    missed.length === 0
      ? `Every target met (${seconds.toFixed(0)} s).`
      : `Targets missed:\n${missed.map((line) => `  - ${line}`).join('\n')}`,
  );

  if (!quick && !only) {
    const path = join(REPO_ROOT, 'docs', 'benchmarks.md');
    await mkdir(join(REPO_ROOT, 'docs'), { recursive: true });
    await writeFile(
      path,
      renderReport(machine, sections, seconds, await readFile(OPTIMIZATIONS, 'utf8')),
    );
    console.log(`Wrote ${path}.`);
  }
  return 0;
}

/** The machine, as the first stack's Postgres reports its version. */
async function machineLine(): Promise<string> {
  const stack = await startPortStack();
  try {
    return await describeMachine(stack.sql);
  } finally {
    await stack.close();
  }
}

/** Written by hand: how the figures were profiled and what each optimisation bought. */
const OPTIMIZATIONS = join(REPO_ROOT, 'scripts', 'bench', 'optimizations.md');

function renderReport(
  machine: string,
  sections: BenchSection[],
  seconds: number,
  optimizations: string,
): string {
  return `${[
    '# Benchmarks',
    `Written by \`pnpm bench\` (a full run, ${Math.round(seconds)} s) on ${new Date().toISOString().slice(0, 10)}. Every figure comes from that one run; each ratio compares two rows measured in it, on the same Postgres. Rerun it to refresh this page; how it measures is in scripts/bench/.`,
    `**Machine:** ${machine}.`,
    ...sections.map(renderSection),
    optimizations.trim(),
  ].join('\n\n')}\n`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
