import {
  NonRetryableError,
  OmniHubError,
  type AgentContext,
  type OmniHubConnector,
  type TaskHandlers,
} from '@omnihub/connector';
import { MAX_JSON_FIELD_BYTES, ResultEnvelope, type Task } from '@omnihub/contracts';
import { z } from 'zod';
import {
  discoveryEnvelope,
  enrichmentEnvelope,
  scoringEnvelope,
  type RunInfo,
} from './envelopes.ts';
import { SAMPLE_LEADS, rescoreQueue } from './leads.ts';
import { discoverLeads, enrichLead, scoreLead, type EnrichedLead, type Lead } from './pipeline.ts';

/** Leads scoring at least this (0–5) are announced as qualified unless the task says otherwise. */
const DEFAULT_MIN_QUALITY_SCORE = 4.0;

const Criteria = z.object({
  industry: z.array(z.string()).optional(),
  location: z.array(z.string()).optional(),
  employee_count: z
    .object({ min: z.number().optional(), max: z.number().optional() })
    // A range no company can be in is a mistake in the goal, not an empty market.
    .refine(({ min, max }) => min === undefined || max === undefined || min <= max, {
      message: 'min must not be above max',
      path: ['min'],
    })
    .optional(),
});
/** Every pipeline task may name its run; the envelopes then share it (else each uses its task id). */
const RunPayload = z.object({ run_id: z.string().min(1).max(200).optional() });
const DiscoverPayload = RunPayload.extend({
  goal_criteria: Criteria.optional(),
  target_metrics: z
    .object({
      companies_to_find: z.int().min(1).optional(),
      min_quality_score: z.number().min(0).max(5).optional(),
    })
    .optional(),
});
const LeadShape = z.object({
  lead_id: z.string(),
  company: z.string(),
  url: z.string(),
  role: z.string(),
  industry: z.string(),
  location: z.string(),
  employee_count: z.number(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  signals: z.array(z.string()),
});
const EnrichedLeadShape = LeadShape.extend({
  enrichment: z.object({
    tech_stack: z.array(z.string()),
    employee_growth_pct: z.number(),
    social_presence_score: z.number(),
    companies_house_number: z.string().nullable(),
  }),
});
/** `{leads: [...]}` or `{lead: {...}}`, read as a list. */
function leadsPayload<S extends z.ZodType>(lead: S) {
  return z.union([
    z.object({ leads: z.array(lead).min(1) }).loose(),
    z
      .object({ lead })
      .loose()
      .transform((payload) => ({ ...payload, leads: [payload.lead] })),
  ]);
}
const ScoreOptions = RunPayload.extend({
  goal_criteria: Criteria.optional(),
  target_metrics: DiscoverPayload.shape.target_metrics,
});

/** Bad input will not get better on a retry: say what is wrong and fail the task for good. */
function payloadOf<S extends z.ZodType>(task: Task, schema: S, expected: string): z.output<S> {
  const parsed = schema.safeParse(task.params.payload);
  if (parsed.success) return parsed.data;
  const problem = parsed.error.issues[0];
  throw new NonRetryableError(
    `${task.action} needs a payload with ${expected}${problem ? ` (${problem.path.join('.') || 'payload'}: ${problem.message})` : ''}`,
  );
}

const eventScore = (qualityScore: number) => Math.round((qualityScore / 5) * 100) / 100;

function runOf(task: Task, runId: string | undefined): RunInfo {
  return { runId: runId ?? task.id, taskId: task.id, action: task.action, now: new Date() };
}

/** Where a stage's leads came from: its payload, or the outputs of the tasks it depends on. */
interface InputLeads<L> {
  leads: L[];
  /** The dependencies read, when the leads came from them. */
  fromTasks: string[];
}

/**
 * A stage's input leads: `lead` / `leads` from the payload when it has
 * either, else, for a task with depends_on (a chain), the records of its
 * dependencies' result envelopes, each checked as a lead of `shape`.
 */
async function inputLeads<S extends z.ZodType>(
  task: Task,
  connector: OmniHubConnector,
  shape: S,
  expected: string,
): Promise<InputLeads<z.output<S>>> {
  const payload = task.params.payload;
  if (!('lead' in payload) && !('leads' in payload) && task.depends_on.length > 0) {
    const leads: z.output<S>[] = [];
    for (const id of task.depends_on)
      leads.push(...(await dependencyLeads(task, id, connector, shape)));
    return { leads, fromTasks: task.depends_on };
  }
  const { leads } = payloadOf(
    task,
    leadsPayload(shape),
    `${expected}, or depends_on a task whose output holds them`,
  );
  return { leads: leads as z.output<S>[], fromTasks: [] };
}

/** The leads in one dependency's envelope. What cannot be read will not become readable: non-retryable. */
async function dependencyLeads<S extends z.ZodType>(
  task: Task,
  id: string,
  connector: OmniHubConnector,
  shape: S,
): Promise<z.output<S>[]> {
  const reading = `${task.action} reads its leads from task ${id}`;
  let dependency: Task;
  try {
    dependency = await connector.getTask(id);
  } catch (error) {
    if (error instanceof OmniHubError && error.code === 'not_found')
      throw new NonRetryableError(`${reading}, which does not exist`, { cause: error });
    throw error;
  }
  if (dependency.output_truncated) {
    throw new NonRetryableError(
      `${reading}, whose output was over ${MAX_JSON_FIELD_BYTES} bytes and stored cut: ask for fewer companies`,
    );
  }
  const parsed = ResultEnvelope.safeParse(dependency.output);
  if (!parsed.success) {
    throw new NonRetryableError(
      `${reading} (${dependency.action}), whose output is not a result envelope (${issueText(parsed.error)})`,
    );
  }
  return parsed.data.records.map(({ provenance: _provenance, ...fields }, index) => {
    const lead = shape.safeParse(fields);
    if (!lead.success)
      throw new NonRetryableError(
        `${reading} (${dependency.action}), whose record ${index} is not a lead this stage can use (${issueText(lead.error)})`,
      );
    return lead.data;
  });
}

function issueText(error: z.ZodError): string {
  const problem = error.issues[0];
  return problem ? `${problem.path.join('.') || 'output'}: ${problem.message}` : 'invalid';
}

/** Lead-Gen's task handlers: echo, refresh_queue, and the 004 pipeline (discover_leads → enrich_lead → score_lead). */
export function leadGenHandlers({ connector }: AgentContext): TaskHandlers {
  let refreshes = 0;
  return {
    echo: (task) => task.params.payload,

    refresh_queue: async (task) => {
      refreshes += 1;
      const { queue, queue_size, qualified_leads } = rescoreQueue(SAMPLE_LEADS, refreshes);
      await connector.emit({
        type: 'queue_seeded',
        idempotency_key: `lead-gen:task:${task.id}:queue_seeded`,
        data: { queue_size, qualified_leads },
      });
      return {
        queue_size,
        qualified_leads,
        refreshes,
        queue: queue.map(({ lead_id, score }) => ({ lead_id, score })),
      };
    },

    discover_leads: async (task) => {
      const input = payloadOf(task, DiscoverPayload, 'optional goal_criteria and target_metrics');
      const run = runOf(task, input.run_id);
      const result = discoverLeads(input);
      await connector.emitBatch(
        result.leads.map((lead) => ({
          type: 'lead_ingested',
          idempotency_key: `lead-gen:task:${task.id}:lead:${lead.lead_id}:ingested`,
          data: { lead_id: lead.lead_id, url: lead.url, role: lead.role, score: null },
        })),
      );
      return discoveryEnvelope(run, result);
    },

    enrich_lead: async (task) => {
      const { run_id } = payloadOf(task, RunPayload, 'an optional run_id');
      const input = await inputLeads(
        task,
        connector,
        LeadShape,
        '`lead` or `leads` from discover_leads',
      );
      const enriched = input.leads.map((lead) => enrichLead(lead as Lead));
      return enrichmentEnvelope(runOf(task, run_id), enriched, input.fromTasks);
    },

    score_lead: async (task) => {
      const options = payloadOf(task, ScoreOptions, 'optional goal_criteria and target_metrics');
      const input = await inputLeads(
        task,
        connector,
        EnrichedLeadShape,
        'enriched `lead` or `leads` from enrich_lead',
      );
      const minimum = options.target_metrics?.min_quality_score ?? DEFAULT_MIN_QUALITY_SCORE;
      const leads = input.leads as EnrichedLead[];
      const scored = leads.map((lead) => ({ lead, score: scoreLead(lead, options.goal_criteria) }));
      const qualified = scored.filter(({ score }) => score.quality_score >= minimum);
      if (qualified.length > 0) {
        await connector.emitBatch(
          qualified.map(({ lead, score }) => ({
            type: 'lead_qualified',
            idempotency_key: `lead-gen:task:${task.id}:lead:${lead.lead_id}:qualified`,
            data: {
              lead_id: lead.lead_id,
              url: lead.url,
              role: lead.role,
              score: eventScore(score.quality_score),
            },
          })),
        );
      }
      return scoringEnvelope(runOf(task, options.run_id), scored, minimum, input.fromTasks);
    },
  };
}
