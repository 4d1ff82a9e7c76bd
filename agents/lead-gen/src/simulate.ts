import type { AgentContext } from '@omnihub/connector';
import { simulationEvents } from './leads.ts';

/** Sends one simulated run, event by event (so OmniDash shows them arrive), and returns the summary line. */
export async function simulateLeadGen({
  connector,
  runId,
}: AgentContext & { runId: string }): Promise<string> {
  const events = simulationEvents(runId);
  let created = 0;
  for (const event of events) {
    if ((await connector.emit(event)).status === 'created') created++;
  }
  const count = (type: string) => events.filter((event) => event.type === type).length;
  const ingested = count('lead_ingested');
  const qualified = count('lead_qualified');
  const queue = events.find((event) => event.type === 'queue_seeded')?.data?.queue_size;
  const rate = ingested === 0 ? 0 : (qualified / ingested) * 100;
  return `Lead-Gen simulation ${runId}: ${ingested} leads ingested, ${qualified} qualified (${rate.toFixed(1)}%), queue seeded with ${queue}; ${events.length} events sent (${created} new, ${events.length - created} already stored).`;
}
