import { describe, expect, it } from 'vitest';
import { ResultEnvelope, envelope } from './envelope.ts';

const TASK_ID = '0193a6f0-4c2e-7d31-8b6a-2f1e0c9d8b7a';
const AT = '2026-11-21T10:00:00.000Z';

const valid = () => ({
  metadata: {
    run_id: 'run-1',
    agent: 'lead-gen',
    action: 'discover_leads',
    generated_at: AT,
    summary: { companies_found: 2, note: 'demo directory' },
  },
  records: [
    {
      lead_id: 'co-001',
      signals: ['job_posting'],
      enrichment: { tech_stack: ['React'] },
      provenance: {
        source: 'omnihub-demo-directory',
        method: 'directory_match',
        retrieved_at: AT,
        url: 'https://brightloom-software.example.com',
        task_id: TASK_ID,
      },
    },
    { lead_id: 'co-002', provenance: { source: 'omnihub-demo-directory', retrieved_at: AT } },
  ],
});

/** Issue paths of a failed parse, dotted; [] when it parsed. */
function failingPaths(value: unknown): string[] {
  const result = ResultEnvelope.safeParse(value);
  return result.error?.issues.map((issue) => issue.path.map(String).join('.')) ?? [];
}

describe('ResultEnvelope', () => {
  it('accepts metadata and records with provenance, keeping every record field as sent', () => {
    const input = valid();
    expect(ResultEnvelope.parse(input)).toEqual(input);
  });

  it('accepts an envelope with no records and no summary', () => {
    const { summary: _summary, ...metadata } = valid().metadata;
    expect(failingPaths({ metadata, records: [] })).toEqual([]);
  });

  it('refuses a record without provenance, naming the record', () => {
    const input = valid();
    delete (input.records[1] as { provenance?: unknown }).provenance;
    expect(failingPaths(input)).toEqual(['records.1.provenance']);
  });

  it.each([
    ['source', { retrieved_at: AT }, 'records.0.provenance.source'],
    ['an empty source', { source: '', retrieved_at: AT }, 'records.0.provenance.source'],
    ['retrieved_at', { source: 's' }, 'records.0.provenance.retrieved_at'],
    [
      'a time zone on retrieved_at',
      { source: 's', retrieved_at: '2026-11-21T10:00:00' },
      'records.0.provenance.retrieved_at',
    ],
    ['a URL', { source: 's', retrieved_at: AT, url: 'not a url' }, 'records.0.provenance.url'],
    [
      'a task id that is a UUID',
      { source: 's', retrieved_at: AT, task_id: '42' },
      'records.0.provenance.task_id',
    ],
    ['only known fields', { source: 's', retrieved_at: AT, retreived: AT }, 'records.0.provenance'],
  ])('refuses provenance without %s', (_problem, provenance, path) => {
    const input = valid();
    input.records[0]!.provenance = provenance as never;
    expect(failingPaths(input)).toEqual([path]);
  });

  it.each([
    ['run_id', 'metadata.run_id'],
    ['agent', 'metadata.agent'],
    ['action', 'metadata.action'],
    ['generated_at', 'metadata.generated_at'],
  ])('refuses metadata without %s', (field, path) => {
    const input = valid();
    delete (input.metadata as Record<string, unknown>)[field];
    expect(failingPaths(input)).toEqual([path]);
  });

  it('refuses summary values that are not numbers or strings, and unknown metadata fields', () => {
    const nested = valid();
    (nested.metadata.summary as Record<string, unknown>).counts = { a: 1 };
    expect(failingPaths(nested)).toEqual(['metadata.summary.counts']);
    const extra = valid();
    (extra.metadata as Record<string, unknown>).count = 2;
    expect(failingPaths(extra)).toEqual(['metadata']);
  });

  it('refuses what is not an envelope: a plain output, records that are not objects', () => {
    // '' is the unknown top-level key `message`.
    expect(failingPaths({ message: 'hello' })).toEqual(['metadata', 'records', '']);
    const input = valid();
    (input as { records: unknown[] }).records = ['co-001'];
    expect(failingPaths(input)).toEqual(['records.0']);
  });
});

describe('envelope', () => {
  it('builds a valid envelope, generated now unless told', () => {
    const built = envelope({
      runId: 'run-9',
      agent: 'lead-gen',
      action: 'score_lead',
      records: [{ lead_id: 'co-001', provenance: { source: 'formula', retrieved_at: AT } }],
      summary: { items_updated: 1 },
      generatedAt: new Date(AT),
    });
    expect(built).toEqual({
      metadata: {
        run_id: 'run-9',
        agent: 'lead-gen',
        action: 'score_lead',
        generated_at: AT,
        summary: { items_updated: 1 },
      },
      records: [{ lead_id: 'co-001', provenance: { source: 'formula', retrieved_at: AT } }],
    });
    const now = envelope({ runId: 'r', agent: 'lead-gen', action: 'echo', records: [] });
    expect(Math.abs(Date.parse(now.metadata.generated_at) - Date.now())).toBeLessThan(5_000);
    expect(now.metadata).not.toHaveProperty('summary');
  });

  it('throws rather than return an envelope that breaks the schema', () => {
    expect(() =>
      envelope({
        runId: '',
        agent: 'lead-gen',
        action: 'echo',
        records: [{ provenance: { source: 's', retrieved_at: AT } }],
      }),
    ).toThrow(/run_id/);
  });
});
