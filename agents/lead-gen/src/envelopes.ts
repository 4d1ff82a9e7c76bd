/**
 * The pipeline's results as note 001's result envelopes: every record says
 * where its data came from. Discovery's come from the demo directory,
 * Enrichment's from the enrichment simulator, Scoring's from note 004's
 * formula; each names the task that produced it.
 */
import { envelope, type Provenance, type ResultEnvelope } from '@omnihub/contracts';
import type { EnrichedLead, Lead, LeadScore } from './pipeline.ts';

export const AGENT = 'lead-gen';

/** Where each stage's records come from (provenance.source and .method). */
export const PROVENANCE = {
  discovery: { source: 'omnihub-demo-directory', method: 'directory_match' },
  enrichment: { source: 'lead-gen-enrichment-simulator', method: 'derived_from_lead_id' },
  // The formula is in the method's name; spelling it out would repeat it in every record.
  scoring: { source: 'lead-gen-quality-formula', method: 'note_004_weighted_sum' },
} as const;

/** What every envelope of a task shares: its run, the task and when it ran. */
export interface RunInfo {
  runId: string;
  taskId: string;
  action: string;
  now: Date;
}

function provenanceOf(stage: keyof typeof PROVENANCE, run: RunInfo): Provenance {
  return { ...PROVENANCE[stage], retrieved_at: run.now.toISOString(), task_id: run.taskId };
}

function build(
  run: RunInfo,
  stage: keyof typeof PROVENANCE,
  records: readonly object[],
  summary: Record<string, number | string>,
): ResultEnvelope {
  const provenance = provenanceOf(stage, run);
  return envelope({
    runId: run.runId,
    agent: AGENT,
    action: run.action,
    records: records.map((record) => ({ ...record, provenance })),
    summary,
    generatedAt: run.now,
  });
}

export function discoveryEnvelope(
  run: RunInfo,
  result: { companies_found: number; items_created: number; leads: Lead[] },
): ResultEnvelope {
  return build(run, 'discovery', result.leads, {
    companies_found: result.companies_found,
    items_created: result.items_created,
  });
}

export function enrichmentEnvelope(
  run: RunInfo,
  enriched: EnrichedLead[],
  inputTaskIds: readonly string[],
): ResultEnvelope {
  return build(run, 'enrichment', enriched, {
    enriched_count: enriched.length,
    ...inputSummary(inputTaskIds),
  });
}

/** A scored lead as Scoring reports it: the lead's own fields, then its score (no enrichment details). */
export type ScoredLead = Lead & Omit<LeadScore, 'lead_id'>;

/**
 * Scoring's records, highest score first (note 004's "reorders by
 * priority"; ties keep their input order), and its counts.
 */
export function scoringEnvelope(
  run: RunInfo,
  scored: { lead: EnrichedLead; score: LeadScore }[],
  minimum: number,
  inputTaskIds: readonly string[],
): ResultEnvelope {
  const records: ScoredLead[] = scored
    .map(({ lead: { enrichment: _enrichment, ...lead }, score: { lead_id: _id, ...score } }) => ({
      ...lead,
      ...score,
    }))
    .sort((a, b) => b.quality_score - a.quality_score);
  const scores = scored.map(({ score }) => score.quality_score);
  const summary: Record<string, number | string> = {
    items_updated: scores.length,
    high_quality_count: scored.filter(
      ({ score }) => score.priority === 'critical' || score.priority === 'high',
    ).length,
    qualified_count: scores.filter((score) => score >= minimum).length,
    min_quality_score: minimum,
    ...inputSummary(inputTaskIds),
  };
  // No average of nothing: an empty run has no avg_quality_score.
  if (scores.length > 0) {
    const average = scores.reduce((sum, score) => sum + score, 0) / scores.length;
    summary.avg_quality_score = Math.round(average * 100) / 100;
  }
  return build(run, 'scoring', records, summary);
}

/** Which tasks' outputs the records were read from, when they were (summary values are flat). */
function inputSummary(inputTaskIds: readonly string[]): Record<string, string> {
  return inputTaskIds.length > 0 ? { input_tasks: inputTaskIds.join(', ') } : {};
}
