import { TelemetryEvent } from '@omnihub/contracts';
import { describe, expect, it } from 'vitest';
import {
  QUALIFICATION_THRESHOLD,
  SAMPLE_LEADS,
  isQualified,
  rescoreQueue,
  simulationEvents,
  type SampleLead,
} from './leads.ts';

const NOW = new Date('2026-11-21T10:00:00.000Z');
const QUALIFIED_IDS = ['lead-001', 'lead-003', 'lead-004', 'lead-006', 'lead-008'];

const slug = (company: string) =>
  company
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

const lead = (score: number): SampleLead => ({
  lead_id: `lead-${score}`,
  company: 'Test Co',
  url: 'https://test-co.example.com',
  role: 'CTO',
  score,
});

describe('SAMPLE_LEADS', () => {
  it('holds 8 distinct fictional leads, 5 of them qualified', () => {
    expect(SAMPLE_LEADS).toHaveLength(8);
    expect(new Set(SAMPLE_LEADS.map((l) => l.lead_id)).size).toBe(8);
    expect(SAMPLE_LEADS.filter((l) => l.score >= 0.7).map((l) => l.lead_id)).toEqual(QUALIFIED_IDS);
  });

  it('gives each lead an example.com url from its company name, a role and a 0..1 score of 2 decimals', () => {
    for (const l of SAMPLE_LEADS) {
      expect(l.url).toBe(`https://${slug(l.company)}.example.com`);
      expect(l.role.length).toBeGreaterThan(0);
      expect(l.score).toBeGreaterThanOrEqual(0);
      expect(l.score).toBeLessThanOrEqual(1);
      expect(Math.round(l.score * 100) / 100).toBe(l.score);
    }
  });
});

describe('isQualified', () => {
  it('qualifies a score at or above 0.7 and nothing below', () => {
    expect(QUALIFICATION_THRESHOLD).toBe(0.7);
    expect(isQualified(lead(0.7))).toBe(true);
    expect(isQualified(lead(1))).toBe(true);
    expect(isQualified(lead(0.69))).toBe(false);
    expect(isQualified(lead(0))).toBe(false);
  });
});

describe('simulationEvents', () => {
  const events = simulationEvents('run-1', NOW);

  it('emits 8 lead_ingested, 5 lead_qualified and 1 queue_seeded: 14 events', () => {
    expect(events).toHaveLength(14);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect(count('lead_ingested')).toBe(8);
    expect(count('lead_qualified')).toBe(5);
    expect(count('queue_seeded')).toBe(1);
  });

  it('orders events per lead (ingested, then qualified if it qualifies) with queue_seeded last', () => {
    const expected: string[] = [];
    for (const l of SAMPLE_LEADS) {
      expected.push(`lead_ingested ${l.lead_id}`);
      if (QUALIFIED_IDS.includes(l.lead_id)) expected.push(`lead_qualified ${l.lead_id}`);
    }
    expected.push('queue_seeded -');
    expect(events.map((e) => `${e.type} ${String(e.data?.lead_id ?? '-')}`)).toEqual(expected);
  });

  it('uses the documented idempotency keys', () => {
    expect(events.map((e) => e.idempotency_key)).toEqual([
      'lead-gen:run-1:lead:lead-001:ingested',
      'lead-gen:run-1:lead:lead-001:qualified',
      'lead-gen:run-1:lead:lead-002:ingested',
      'lead-gen:run-1:lead:lead-003:ingested',
      'lead-gen:run-1:lead:lead-003:qualified',
      'lead-gen:run-1:lead:lead-004:ingested',
      'lead-gen:run-1:lead:lead-004:qualified',
      'lead-gen:run-1:lead:lead-005:ingested',
      'lead-gen:run-1:lead:lead-006:ingested',
      'lead-gen:run-1:lead:lead-006:qualified',
      'lead-gen:run-1:lead:lead-007:ingested',
      'lead-gen:run-1:lead:lead-008:ingested',
      'lead-gen:run-1:lead:lead-008:qualified',
      'lead-gen:run-1:queue_seeded',
    ]);
  });

  it('carries {lead_id, url, role, score} on lead events and the queue counts on queue_seeded', () => {
    const ingested = events.find((e) => e.idempotency_key.endsWith('lead-003:ingested'));
    const qualified = events.find((e) => e.idempotency_key.endsWith('lead-003:qualified'));
    const expectedData = {
      lead_id: 'lead-003',
      url: 'https://ledgerlark.example.com',
      role: 'VP Sales',
      score: 0.81,
    };
    expect(ingested?.data).toEqual(expectedData);
    expect(qualified?.data).toEqual(expectedData);
    expect(events.at(-1)?.data).toEqual({ queue_size: 5, qualified_leads: 5 });
  });

  it('stamps events one second apart, the last at now', () => {
    expect(events.map((e) => e.occurred_at)).toEqual(
      Array.from({ length: 14 }, (_, i) =>
        new Date(NOW.getTime() - (13 - i) * 1_000).toISOString(),
      ),
    );
  });

  it('defaults now to the current time', () => {
    const before = Date.now();
    const last = Date.parse(simulationEvents('run-1').at(-1)?.occurred_at ?? '');
    expect(last).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(Date.now());
  });

  it('is identical for the same runId, so re-sending stores nothing new', () => {
    expect(simulationEvents('run-1', NOW)).toEqual(events);
    expect(simulationEvents('run-1', new Date(NOW))).toStrictEqual(events);
  });

  it('uses disjoint keys for different runIds', () => {
    const keys = new Set(events.map((e) => e.idempotency_key));
    const other = simulationEvents('run-2', NOW).map((e) => e.idempotency_key);
    expect(other.filter((key) => keys.has(key))).toEqual([]);
  });

  it('produces only events the contract accepts', () => {
    for (const event of [...events, ...simulationEvents('x'.repeat(165), NOW)]) {
      expect(TelemetryEvent.parse(event)).toEqual(event);
    }
  });

  it('refuses a runId that is empty or would push a key past 200 characters', () => {
    expect(() => simulationEvents('', NOW)).toThrow(RangeError);
    // 'lead-gen::lead:lead-001:qualified' is 33 characters.
    expect(simulationEvents('x'.repeat(167), NOW)[1]?.idempotency_key).toHaveLength(200);
    expect(() => simulationEvents('x'.repeat(168), NOW)).toThrow(RangeError);
  });
});

describe('rescoreQueue', () => {
  it('keeps all 5 qualified leads with no refreshes', () => {
    const result = rescoreQueue(SAMPLE_LEADS, 0);
    expect(result.queue.map((l) => l.lead_id)).toEqual(QUALIFIED_IDS);
    expect(result.queue_size).toBe(5);
    expect(result.qualified_leads).toBe(5);
  });

  it('takes 0.02 off each score per refresh, dropping leads that fall under 0.7', () => {
    const once = rescoreQueue(SAMPLE_LEADS, 1);
    expect(once.queue.map((l) => [l.lead_id, l.score])).toEqual([
      ['lead-001', 0.9],
      ['lead-003', 0.79],
      ['lead-004', 0.72],
      ['lead-006', 0.86],
    ]);
    expect(once.queue_size).toBe(4);
    expect(once.qualified_leads).toBe(4);

    // 0.74 - 2 × 0.02 lands exactly on the threshold and still qualifies.
    expect(rescoreQueue(SAMPLE_LEADS, 2).queue.map((l) => l.lead_id)).toContain('lead-004');
    expect(rescoreQueue(SAMPLE_LEADS, 3).queue.map((l) => l.lead_id)).toEqual([
      'lead-001',
      'lead-003',
      'lead-006',
    ]);
  });

  it('empties the queue once every score has decayed under the threshold', () => {
    // 0.92 is the top score: 11 refreshes leave 0.70, 12 leave 0.68.
    expect(rescoreQueue(SAMPLE_LEADS, 11).queue).toEqual([{ ...SAMPLE_LEADS[0], score: 0.7 }]);
    expect(rescoreQueue(SAMPLE_LEADS, 12)).toEqual({
      queue: [],
      queue_size: 0,
      qualified_leads: 0,
    });
    expect(rescoreQueue(SAMPLE_LEADS, 1_000).queue_size).toBe(0);
  });

  it('leaves its input untouched', () => {
    const input = [lead(0.9)];
    rescoreQueue(input, 5);
    expect(input[0]?.score).toBe(0.9);
  });

  it.each([[-1], [1.5], [Number.NaN]])('refuses %s refreshes', (refreshes) => {
    expect(() => rescoreQueue(SAMPLE_LEADS, refreshes)).toThrow(RangeError);
  });
});
