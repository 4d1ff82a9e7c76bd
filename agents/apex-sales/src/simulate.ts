import type { AgentContext } from '@omnihub/connector';
import { simulationRun } from './calls.ts';
import { seededRandom } from './random.ts';

/** Places the 10 simulated calls, sending each call's events as they happen, and returns the summary line. */
export async function simulateApexSales({
  connector,
  runId,
  seed,
}: AgentContext & { runId: string }): Promise<string> {
  // Without --seed the run id is the seed: a run is repeatable by its id, so
  // sending the same run again stores nothing new.
  const usedSeed = seed ?? runId;
  const run = simulationRun(runId, seededRandom(usedSeed));
  let created = 0;
  for (const event of run.events) {
    if ((await connector.emit(event)).status === 'created') created++;
  }
  const { attempts, connections, bookings, errors, no_answers } = run.summary;
  const percent = (n: number) => `${((n / attempts) * 100).toFixed(0)}%`;
  return `APEX-Sales simulation ${runId} (seed ${usedSeed}): ${attempts} call attempts, ${connections} connections (${percent(connections)}), ${bookings} bookings (${percent(bookings)}), ${errors} errors, ${no_answers} no answer; ${run.events.length} events sent (${created} new, ${run.events.length - created} already stored).`;
}
