import { NonRetryableError, type AgentContext, type TaskHandlers } from '@omnihub/connector';
import type { Task } from '@omnihub/contracts';
import { z } from 'zod';
import { SAMPLE_LEADS, rescoreQueue } from './leads.ts';
import { discoverLeads, enrichLead, scoreLead, type EnrichedLead, type Lead } from './pipeline.ts';

/** Leads scoring at least this (0–5) are announced as qualified unless the task says otherwise. */
const DEFAULT_MIN_QUALITY_SCORE = 4.0;

const Criteria = z.object({
  industry: z.array(z.string()).optional(),
  location: z.array(z.string()).optional(),
  employee_count: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
});
const DiscoverPayload = z.object({
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
const EnrichPayload = leadsPayload(LeadShape);
const ScorePayload = z.intersection(
  leadsPayload(EnrichedLeadShape),
  z.object({
    goal_criteria: Criteria.optional(),
    target_metrics: DiscoverPayload.shape.target_metrics,
  }),
);

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
      const result = discoverLeads(input);
      await connector.emitBatch(
        result.leads.map((lead) => ({
          type: 'lead_ingested',
          idempotency_key: `lead-gen:task:${task.id}:lead:${lead.lead_id}:ingested`,
          data: { lead_id: lead.lead_id, url: lead.url, role: lead.role, score: null },
        })),
      );
      return result;
    },

    enrich_lead: (task) => {
      const { leads } = payloadOf(task, EnrichPayload, '`lead` or `leads` from discover_leads');
      const enriched = leads.map((lead) => enrichLead(lead as Lead));
      return { enriched_count: enriched.length, leads: enriched };
    },

    score_lead: async (task) => {
      const input = payloadOf(task, ScorePayload, 'enriched `lead` or `leads` from enrich_lead');
      const minimum = input.target_metrics?.min_quality_score ?? DEFAULT_MIN_QUALITY_SCORE;
      const leads = input.leads as EnrichedLead[];
      const scored = leads.map((lead) => ({ lead, score: scoreLead(lead, input.goal_criteria) }));
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
      const scores = scored.map(({ score }) => score);
      const average = scores.reduce((sum, score) => sum + score.quality_score, 0) / scores.length;
      return {
        items_updated: scores.length,
        avg_quality_score: Math.round(average * 100) / 100,
        high_quality_count: scores.filter(
          (score) => score.priority === 'critical' || score.priority === 'high',
        ).length,
        qualified_count: qualified.length,
        scores,
      };
    },
  };
}
