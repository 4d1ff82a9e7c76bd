import { MAX_JSON_FIELD_BYTES, ResultEnvelope, jsonByteLength } from '@omnihub/contracts';
import { describe, expect, it } from 'vitest';
import {
  AGENT,
  PROVENANCE,
  discoveryEnvelope,
  enrichmentEnvelope,
  scoringEnvelope,
  type RunInfo,
} from './envelopes.ts';
import { discoverLeads, enrichLead, scoreLead } from './pipeline.ts';

const NOW = new Date('2026-11-21T10:00:00.000Z');
const TASK = '0193a6f0-4c2e-7d31-8b6a-2f1e0c9d8b7a';
const UPSTREAM = '0193a6f0-4c2e-7d31-8b6a-2f1e0c9d8b70';
const run = (action: string): RunInfo => ({ runId: 'run-7', taskId: TASK, action, now: NOW });

const discovered = discoverLeads({
  goal_criteria: { industry: ['SaaS', 'FinTech'], location: ['UK', 'Ireland'] },
  target_metrics: { companies_to_find: 6 },
});
const enriched = discovered.leads.map(enrichLead);
const scored = enriched.map((lead) => ({ lead, score: scoreLead(lead) }));

describe('discoveryEnvelope', () => {
  const result = discoveryEnvelope(run('discover_leads'), discovered);

  it('is a valid envelope of the run, the agent and the action, with the discovery counts', () => {
    expect(ResultEnvelope.parse(result)).toEqual(result);
    expect(result.metadata).toEqual({
      run_id: 'run-7',
      agent: AGENT,
      action: 'discover_leads',
      generated_at: NOW.toISOString(),
      summary: {
        companies_found: discovered.companies_found,
        items_created: discovered.items_created,
      },
    });
  });

  it('holds every lead as found, with the directory as provenance', () => {
    expect(result.records).toEqual(
      discovered.leads.map((lead) => ({
        ...lead,
        provenance: {
          source: PROVENANCE.discovery.source,
          method: PROVENANCE.discovery.method,
          retrieved_at: NOW.toISOString(),
          task_id: TASK,
        },
      })),
    );
  });
});

describe('enrichmentEnvelope', () => {
  it('holds the enriched leads, with the simulator as provenance and the input tasks named', () => {
    const result = enrichmentEnvelope(run('enrich_lead'), enriched, [UPSTREAM]);
    expect(ResultEnvelope.safeParse(result).success).toBe(true);
    expect(result.metadata.summary).toEqual({ enriched_count: 6, input_tasks: UPSTREAM });
    expect(result.records.map(({ provenance: _p, ...lead }) => lead)).toEqual(enriched);
    expect(new Set(result.records.map((record) => record.provenance.source))).toEqual(
      new Set([PROVENANCE.enrichment.source]),
    );
  });

  it('leaves input_tasks out when the leads came in the payload', () => {
    expect(enrichmentEnvelope(run('enrich_lead'), enriched, []).metadata.summary).toEqual({
      enriched_count: 6,
    });
  });
});

describe('scoringEnvelope', () => {
  const result = scoringEnvelope(run('score_lead'), scored, 4, [UPSTREAM]);

  it('merges each score into its lead, without the enrichment details, highest score first', () => {
    expect(ResultEnvelope.safeParse(result).success).toBe(true);
    const byScore = [...scored].sort((a, b) => b.score.quality_score - a.score.quality_score);
    expect(result.records.map(({ provenance: _p, ...record }) => record)).toEqual(
      byScore.map(({ lead: { enrichment: _e, ...lead }, score }) => ({ ...lead, ...score })),
    );
    expect(result.records[0]).not.toHaveProperty('enrichment');
    expect(result.records[0]!.provenance.source).toBe(PROVENANCE.scoring.source);
  });

  it('counts as score_lead always has, and keeps the threshold it used', () => {
    const scores = scored.map(({ score }) => score);
    const average =
      Math.round((scores.reduce((sum, s) => sum + s.quality_score, 0) / scores.length) * 100) / 100;
    expect(result.metadata.summary).toEqual({
      items_updated: 6,
      avg_quality_score: average,
      high_quality_count: scores.filter((s) => s.priority === 'critical' || s.priority === 'high')
        .length,
      qualified_count: scores.filter((s) => s.quality_score >= 4).length,
      min_quality_score: 4,
      input_tasks: UPSTREAM,
    });
  });

  it('has no average for a run that scored nothing', () => {
    const empty = scoringEnvelope(run('score_lead'), [], 4, []);
    expect(empty.records).toEqual([]);
    expect(empty.metadata.summary).toEqual({
      items_updated: 0,
      high_quality_count: 0,
      qualified_count: 0,
      min_quality_score: 4,
    });
  });
});

describe('output size', () => {
  it('keeps every stage of a 20-company run within the port’s output limit', () => {
    const leads = discoverLeads({ target_metrics: { companies_to_find: 20 } });
    const rich = leads.leads.map(enrichLead);
    const outputs = [
      discoveryEnvelope(run('discover_leads'), leads),
      enrichmentEnvelope(run('enrich_lead'), rich, [UPSTREAM]),
      scoringEnvelope(
        run('score_lead'),
        rich.map((lead) => ({ lead, score: scoreLead(lead) })),
        4,
        [UPSTREAM],
      ),
    ];
    for (const output of outputs)
      expect(jsonByteLength(output)).toBeLessThanOrEqual(MAX_JSON_FIELD_BYTES);
  });
});
