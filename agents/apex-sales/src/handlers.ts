import {
  ConfigError,
  NonRetryableError,
  sleep,
  type AgentContext,
  type TaskHandlers,
} from '@omnihub/connector';
import { z } from 'zod';
import { SAMPLE_CALL_LEADS, simulateCall, type CallLead } from './calls.ts';
import { seededRandom } from './random.ts';

const CallPayload = z.object({
  lead_id: z.string().min(1),
  phone: z.string().min(3).optional(),
  name: z.string().optional(),
});

/** How long a simulated call rings and talks before its outcome is known (APEX_SALES_CALL_MS). */
export function callDurationMs(env: Record<string, string | undefined>): number {
  const raw = env.APEX_SALES_CALL_MS?.trim();
  if (!raw) return 2_000;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0)
    throw new ConfigError(`APEX_SALES_CALL_MS must be a number of milliseconds (got "${raw}").`);
  return ms;
}

/** APEX-Sales's task handlers: echo, and call_lead (one simulated call, its events, its outcome). */
export function apexSalesHandlers({ connector, env }: AgentContext): TaskHandlers {
  const durationMs = callDurationMs(env);
  return {
    echo: (task) => task.params.payload,

    call_lead: async (task, { signal }) => {
      const parsed = CallPayload.safeParse(task.params.payload);
      if (!parsed.success)
        throw new NonRetryableError(
          'call_lead needs a payload with lead_id (and phone for a lead outside the sample list)',
        );
      const known = SAMPLE_CALL_LEADS.find((lead) => lead.lead_id === parsed.data.lead_id);
      const phone = parsed.data.phone ?? known?.phone;
      if (!phone)
        throw new NonRetryableError(
          `call_lead has no phone number for lead ${parsed.data.lead_id}: add payload.phone`,
        );
      const lead: CallLead = {
        lead_id: parsed.data.lead_id,
        phone,
        name: parsed.data.name ?? known?.name ?? parsed.data.lead_id,
      };

      // Everything comes from the task itself, so a retried attempt (on any
      // worker) replays the same call: its events are duplicates, not new rows.
      const call = simulateCall(lead, seededRandom(`call_lead:${task.id}`), {
        keyPrefix: `apex-sales:task:${task.id}`,
        now: new Date(task.created_at),
      });
      const [attempted, ...rest] = call.events;
      await connector.emit(attempted!, { signal });
      await sleep(durationMs, signal);
      await connector.emitBatch(rest, { signal });
      return {
        lead_id: call.lead_id,
        outcome: call.outcome,
        connected: call.connected,
        meeting_time: call.meeting_time,
      };
    },
  };
}
