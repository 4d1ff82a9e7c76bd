import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startProcess,
  tsxCommand,
  type IssuedKey,
  type RunningProcess,
} from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import { ResultEnvelope } from '@omnihub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVENANCE, type ScoredLead } from '../src/envelopes.ts';
import { SAMPLE_LEADS, rescoreQueue } from '../src/leads.ts';
import {
  QUALITY_WEIGHTS,
  discoverLeads,
  enrichLead,
  priorityFor,
  scoreLead,
  type EnrichedLead,
  type Lead,
} from '../src/pipeline.ts';

const [node, args] = tsxCommand('agents/lead-gen/src/main.ts');

let t: TestStack;
let key: IssuedKey;
let emptyDir: string;

beforeAll(async () => {
  t = await startTestStack();
  key = await t.issueKey({ tenant: 'acme', source: 'lead-gen' });
  // Agents read ./.env: run them where there is none, so a developer's own settings stay out.
  emptyDir = await mkdtemp(join(tmpdir(), 'lead-gen-test-'));
});
afterAll(async () => {
  await t.close();
  await rm(emptyDir, { recursive: true, force: true });
});

function leadGen(
  extraArgs: string[],
  env: Record<string, string | undefined> = {},
): RunningProcess {
  return startProcess(node, [...args, ...extraArgs], {
    cwd: emptyDir,
    env: { ...t.agentEnv(key), LEAD_GEN_MODE: undefined, ...env },
  });
}

/** Through the port, as an operator or another agent would. */
function task(action: string, payload: Record<string, unknown>, dependsOn: string[] = []) {
  return t.createTask(key, { target: 'lead-gen', action, payload, depends_on: dependsOn });
}

/** A finished task's output, checked as a result envelope. */
function envelopeOf(row: { [column: string]: unknown }): ResultEnvelope {
  return ResultEnvelope.parse(row.output);
}

/** Records without their provenance. */
const withoutProvenance = <T>(records: { provenance: unknown }[]) =>
  records.map(({ provenance: _provenance, ...fields }) => fields as T);

async function finished(id: string) {
  await expect
    .poll(async () => (await t.db.sql`select status from tasks where id = ${id}`)[0]!.status, {
      timeout: 20_000,
    })
    .toMatch(/succeeded|failed|canceled/);
  return (await t.db.sql`select status, output, error from tasks where id = ${id}`)[0]!;
}

describe('pnpm lead-gen (simulate)', () => {
  it('stores exactly 14 events and prints a one-line summary; the same run id again stores none', async () => {
    const first = leadGen(['--run-id', 'run-42']);
    expect(await first.exited).toBe(0);
    expect(first.output().trim()).toBe(
      'Lead-Gen simulation run-42: 8 leads ingested, 5 qualified (62.5%), queue seeded with 5; 14 events sent (14 new, 0 already stored).',
    );
    const count = async () =>
      (
        await t.db
          .sql`select type, count(*)::int as n from telemetry_events where idempotency_key like 'lead-gen:run-42:%' group by type order by type`
      ).map((r) => [r.type, r.n]);
    expect(await count()).toEqual([
      ['lead_ingested', 8],
      ['lead_qualified', 5],
      ['queue_seeded', 1],
    ]);

    const again = leadGen(['--run-id', 'run-42']);
    expect(await again.exited).toBe(0);
    expect(again.output()).toMatch(/14 events sent \(0 new, 14 already stored\)/);
    expect(await count()).toEqual([
      ['lead_ingested', 8],
      ['lead_qualified', 5],
      ['queue_seeded', 1],
    ]);
  });
});

describe('pnpm lead-gen (kill switch)', () => {
  it('says OmniLink is switched off, keeps retrying, and finishes by itself once it is back on', async () => {
    await t.db
      .sql`update tenant_settings set omnilink_enabled = false where tenant_id = ${key.tenantId}`;
    try {
      const run = leadGen(['--run-id', 'while-off']);
      await run.waitFor(/OmniLink is switched off \(omnilink_disabled\); retrying in/);
      await t.db
        .sql`update tenant_settings set omnilink_enabled = true where tenant_id = ${key.tenantId}`;
      expect(await run.exited).toBe(0);
      expect(run.output()).toMatch(/14 events sent \(14 new, 0 already stored\)/);
    } finally {
      await t.db
        .sql`update tenant_settings set omnilink_enabled = true where tenant_id = ${key.tenantId}`;
    }
  });
});

describe('pnpm lead-gen (worker)', () => {
  let worker: RunningProcess;
  beforeAll(async () => {
    worker = leadGen([], { LEAD_GEN_MODE: 'worker' });
    await worker.waitFor(/is online: claiming lead-gen tasks/);
  });
  afterAll(async () => {
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });

  it('runs echo and refresh_queue, which announces the re-scored queue', async () => {
    expect(await finished(await task('echo', { message: 'hello from OmniHub' }))).toMatchObject({
      status: 'succeeded',
      output: { message: 'hello from OmniHub' },
    });
    const refresh = await task('refresh_queue', {});
    const result = await finished(refresh);
    // The first refresh decays every score once (the lead at exactly 0.70 drops out).
    const { queue_size, qualified_leads } = rescoreQueue(SAMPLE_LEADS, 1);
    expect(queue_size).toBe(4);
    expect(result).toMatchObject({
      status: 'succeeded',
      output: { queue_size, qualified_leads, refreshes: 1 },
    });
    const [event] = await t.db
      .sql`select type, data from telemetry_events where idempotency_key = ${`lead-gen:task:${refresh}:queue_seeded`}`;
    expect(event).toEqual({ type: 'queue_seeded', data: { queue_size, qualified_leads } });
  });

  it('runs Discovery → Enrichment → Scoring; each returns an envelope, the scores follow the formula', async () => {
    const criteria = {
      industry: ['SaaS', 'FinTech'],
      location: ['UK', 'Ireland'],
      employee_count: { min: 10, max: 500 },
    };
    const discoverTask = await task('discover_leads', {
      goal_criteria: criteria,
      target_metrics: { companies_to_find: 5 },
    });
    const discovered = await finished(discoverTask);
    expect(discovered.status).toBe('succeeded');
    const discovery = envelopeOf(discovered);
    // No run_id in the payload: the task's id is the run.
    expect(discovery.metadata).toMatchObject({
      run_id: discoverTask,
      agent: 'lead-gen',
      action: 'discover_leads',
    });
    const leads = withoutProvenance<Lead>(discovery.records);
    expect(leads.length).toBeGreaterThan(0);
    expect(discovery.metadata.summary).toMatchObject({ items_created: leads.length });
    for (const lead of leads) {
      expect(criteria.industry).toContain(lead.industry);
      expect(criteria.location).toContain(lead.location);
    }
    for (const record of discovery.records)
      expect(record.provenance).toMatchObject({ ...PROVENANCE.discovery, task_id: discoverTask });

    const enrichment = envelopeOf(await finished(await task('enrich_lead', { leads })));
    const enriched = withoutProvenance<EnrichedLead>(enrichment.records);
    expect(enriched.map((lead) => lead.lead_id)).toEqual(leads.map((lead) => lead.lead_id));
    expect(enrichment.records[0]!.provenance.source).toBe(PROVENANCE.enrichment.source);

    const scoreTask = await task('score_lead', {
      leads: enriched,
      goal_criteria: criteria,
      target_metrics: { min_quality_score: 4 },
    });
    const scored = envelopeOf(await finished(scoreTask));
    const scores = withoutProvenance<ScoredLead>(scored.records);
    expect(scores.map((score) => score.lead_id).sort()).toEqual(
      leads.map((lead) => lead.lead_id).sort(),
    );
    for (const score of scores) {
      const { criteria_match, data_completeness, enrichment_quality, buying_signals } =
        score.components;
      // Every lead matches all three criteria it was discovered with.
      expect(criteria_match).toBe(1);
      const weighted =
        QUALITY_WEIGHTS.criteria_match * criteria_match +
        QUALITY_WEIGHTS.data_completeness * data_completeness +
        QUALITY_WEIGHTS.enrichment_quality * enrichment_quality +
        QUALITY_WEIGHTS.buying_signals * buying_signals;
      // Components are rounded to 2 decimals; the score is computed before rounding them.
      expect(Math.abs(score.quality_score - weighted)).toBeLessThanOrEqual(0.025);
      expect(score.priority).toBe(priorityFor(score.quality_score));
    }
    const qualified = scores.filter((score) => score.quality_score >= 4);
    expect(scored.metadata.summary?.qualified_count).toBe(qualified.length);
    const events = await t.db
      .sql`select data from telemetry_events where type = 'lead_qualified' and idempotency_key like ${`lead-gen:task:${scoreTask}:%`} order by data->>'lead_id'`;
    expect(events.map((e) => e.data)).toEqual(
      qualified
        .map((score) => ({
          lead_id: score.lead_id,
          url: score.url,
          role: score.role,
          score: Math.round((score.quality_score / 5) * 100) / 100,
        }))
        .sort((a, b) => a.lead_id.localeCompare(b.lead_id)),
    );
  });

  it('runs a chain: enrichment and scoring read their leads from the tasks they depend on', async () => {
    const criteria = { industry: ['HealthTech'], employee_count: { min: 20 } };
    const runId = `chain-${crypto.randomUUID()}`;
    const discover = await task('discover_leads', {
      run_id: runId,
      goal_criteria: criteria,
      target_metrics: { companies_to_find: 4 },
    });
    const enrich = await task('enrich_lead', { run_id: runId }, [discover]);
    const score = await task(
      'score_lead',
      { run_id: runId, goal_criteria: criteria, target_metrics: { min_quality_score: 3 } },
      [enrich],
    );
    const scoring = await finished(score);
    expect(scoring.status).toBe('succeeded');
    const enrichment = envelopeOf(await finished(enrich));
    expect(enrichment.metadata).toMatchObject({
      run_id: runId,
      summary: { enriched_count: 4, input_tasks: discover },
    });

    // What the pipeline gives for the same criteria when called directly.
    const expected = discoverLeads({
      goal_criteria: criteria,
      target_metrics: { companies_to_find: 4 },
    })
      .leads.map(enrichLead)
      .map((lead) => ({ lead_id: lead.lead_id, score: scoreLead(lead, criteria).quality_score }))
      .sort((a, b) => b.score - a.score);
    const result = envelopeOf(scoring);
    expect(result.metadata).toMatchObject({
      run_id: runId,
      action: 'score_lead',
      summary: { items_updated: 4, input_tasks: enrich, min_quality_score: 3 },
    });
    expect(
      withoutProvenance<ScoredLead>(result.records).map((r) => ({
        lead_id: r.lead_id,
        score: r.quality_score,
      })),
    ).toEqual(expected);
    for (const record of result.records)
      expect(record.provenance).toMatchObject({ ...PROVENANCE.scoring, task_id: score });
  });

  it('fails a discovery with an impossible employee range at once, which cancels its chain', async () => {
    const discover = await task('discover_leads', {
      goal_criteria: { employee_count: { min: 500, max: 10 } },
    });
    const enrich = await task('enrich_lead', {}, [discover]);
    const score = await task('score_lead', {}, [enrich]);
    expect(await finished(discover)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/goal_criteria\.employee_count\.min: min must not be above max/),
    });
    for (const id of [enrich, score])
      expect(await finished(id)).toMatchObject({ status: 'canceled', error: 'dependency_failed' });
  });

  it('fails a chained enrichment at once when its dependency’s output is not an envelope', async () => {
    const echo = await task('echo', { message: 'not leads' });
    const enrich = await task('enrich_lead', {}, [echo]);
    expect(await finished(enrich)).toMatchObject({
      status: 'failed',
      error: `enrich_lead reads its leads from task ${echo} (echo), whose output is not a result envelope (metadata: Invalid input: expected object, received undefined)`,
    });
    const [row] = await t.db.sql`select attempts from tasks where id = ${enrich}`;
    expect(row!.attempts).toBe(1);
  });

  it('fails a chained scoring at once when its dependency holds leads that were never enriched', async () => {
    const discover = await task('discover_leads', { target_metrics: { companies_to_find: 1 } });
    const score = await task('score_lead', {}, [discover]);
    expect(await finished(score)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(
        new RegExp(
          `^score_lead reads its leads from task ${discover} \\(discover_leads\\), whose record 0 is not a lead this stage can use \\(enrichment: `,
        ),
      ),
    });
  });

  it('fails enrich_lead at once when a lead lacks fields the pipeline needs', async () => {
    const incomplete = {
      lead_id: 'x',
      company: 'X Ltd',
      url: 'https://x.example.com',
      role: 'CTO',
    };
    expect(await finished(await task('enrich_lead', { leads: [incomplete] }))).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^enrich_lead needs a payload with `lead` or `leads`/),
    });
    const [row] = await t.db
      .sql`select attempts from tasks where action = 'enrich_lead' order by created_at desc limit 1`;
    expect(row!.attempts).toBe(1);
  });

  it('fails a pipeline task with a bad payload at once, saying what it needs', async () => {
    expect(await finished(await task('score_lead', { nothing: true }))).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^score_lead needs a payload with enriched `lead` or `leads`/),
    });
  });
});

describe('pnpm lead-gen (bad configuration)', () => {
  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ['no URL', { OMNIHUB_BASE_URL: undefined }, /OMNIHUB_BASE_URL is not set/],
    [
      'a key that is not omni.<key_id>.<secret>',
      { OMNIHUB_API_KEY: 'sk-live-abcdefghijklmnopqrstuvwxyz0123456789' },
      /not of the form omni\.<key_id>\.<secret>/,
    ],
    [
      'another agent’s source',
      { OMNIHUB_SOURCE: 'apex-sales' },
      /OMNIHUB_SOURCE is "apex-sales", but this is the Lead-Gen agent/,
    ],
    [
      'an unknown mode',
      { LEAD_GEN_MODE: 'turbo' },
      /LEAD_GEN_MODE must be simulate, worker or hybrid/,
    ],
  ])(
    'with %s fails at start with exit code 1 and a sentence, never the secret',
    async (_name, env, message) => {
      const run = leadGen([], env);
      expect(await run.exited).toBe(1);
      expect(run.output()).toMatch(message);
      expect(run.output()).not.toContain(key.apiKey.split('.')[2]);
      expect(run.output()).not.toContain('abcdefghijklmnop');
    },
  );
});
