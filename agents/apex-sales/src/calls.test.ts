import { TelemetryEvent } from '@omnihub/contracts';
import { describe, expect, it } from 'vitest';
import { SAMPLE_CALL_LEADS, simulateCall, simulationRun, type CallOutcome } from './calls.ts';
import { seededRandom } from './random.ts';

// A Wednesday.
const NOW = new Date('2026-11-18T09:30:00.000Z');
const LEAD = { lead_id: 'lead-x', phone: '+44 20 7946 0999', name: 'Test Lead' };
const OPTIONS = { keyPrefix: 'apex-sales:t:call:1:lead-x', now: NOW };

/** A random source that returns exactly `values` and fails if asked for more. */
function sequence(...values: number[]) {
  const queue = [...values];
  return () => {
    const next = queue.shift();
    if (next === undefined) throw new Error('random source exhausted');
    return next;
  };
}

const types = (events: TelemetryEvent[]) => events.map((event) => event.type);

describe('SAMPLE_CALL_LEADS', () => {
  it('holds 10 distinct leads with fictional London drama-range phones', () => {
    expect(SAMPLE_CALL_LEADS).toHaveLength(10);
    expect(new Set(SAMPLE_CALL_LEADS.map((lead) => lead.lead_id)).size).toBe(10);
    for (const lead of SAMPLE_CALL_LEADS) {
      expect(lead.phone).toMatch(/^\+44 20 7946 0\d{3}$/);
      expect(lead.name.length).toBeGreaterThan(0);
    }
  });
});

describe('simulateCall', () => {
  it.each<[CallOutcome, number[], string[]]>([
    ['no_answer', [0.1], ['call_attempted', 'call_completed']],
    ['error', [0.35, 0.5], ['call_attempted', 'error', 'call_completed']],
    ['not_interested', [0.5], ['call_attempted', 'call_connected', 'call_completed']],
    ['callback', [0.7], ['call_attempted', 'call_connected', 'call_completed']],
    [
      'meeting_booked',
      [0.9, 0],
      ['call_attempted', 'call_connected', 'call_completed', 'meeting_booked'],
    ],
  ])('emits the %s sequence in order', (outcome, draws, expectedTypes) => {
    const result = simulateCall(LEAD, sequence(...draws), OPTIONS);
    expect(result.outcome).toBe(outcome);
    expect(types(result.events)).toEqual(expectedTypes);
    expect(result.lead_id).toBe('lead-x');
  });

  it.each<[number, CallOutcome]>([
    [0, 'no_answer'],
    [0.2999, 'no_answer'],
    [0.3, 'error'],
    [0.3999, 'error'],
    [0.4, 'not_interested'],
    [0.6499, 'not_interested'],
    [0.65, 'callback'],
    [0.7999, 'callback'],
    [0.8, 'meeting_booked'],
    [0.9999, 'meeting_booked'],
  ])('maps the draw %s to %s', (value, outcome) => {
    expect(simulateCall(LEAD, sequence(value, 0.5), OPTIONS).outcome).toBe(outcome);
  });

  it('carries the contract data fields on every event', () => {
    const booked = simulateCall(LEAD, sequence(0.9, 0.5), OPTIONS);
    expect(booked.connected).toBe(true);
    expect(booked.events.map((event) => event.data)).toEqual([
      { lead_id: 'lead-x', phone: '+44 20 7946 0999' },
      { lead_id: 'lead-x', phone: '+44 20 7946 0999' },
      { lead_id: 'lead-x', outcome: 'meeting_booked' },
      { lead_id: 'lead-x', phone: '+44 20 7946 0999', meeting_time: booked.meeting_time },
    ]);

    const failed = simulateCall(LEAD, sequence(0.35, 0.5), OPTIONS);
    expect(failed.connected).toBe(false);
    expect(failed.meeting_time).toBeNull();
    expect(failed.events[1]?.data).toEqual({
      lead_id: 'lead-x',
      reason: 'invalid_number',
      error_type: 'telephony',
    });
    expect(failed.events[2]?.data).toEqual({ lead_id: 'lead-x', outcome: 'error' });
  });

  it.each([
    [0, 'carrier_rejected'],
    [0.34, 'invalid_number'],
    [0.99, 'dialer_timeout'],
  ])('picks the error reason from the second draw (%s → %s)', (value, reason) => {
    const result = simulateCall(LEAD, sequence(0.35, value), OPTIONS);
    expect(result.events[1]?.data?.reason).toBe(reason);
  });

  it('marks only not_interested, callback and meeting_booked as connected', () => {
    expect(simulateCall(LEAD, sequence(0.1), OPTIONS).connected).toBe(false);
    expect(simulateCall(LEAD, sequence(0.35, 0), OPTIONS).connected).toBe(false);
    expect(simulateCall(LEAD, sequence(0.5), OPTIONS).connected).toBe(true);
    expect(simulateCall(LEAD, sequence(0.7), OPTIONS).connected).toBe(true);
    expect(simulateCall(LEAD, sequence(0.9, 0), OPTIONS).connected).toBe(true);
  });

  it('keys events as <keyPrefix>:<suffix> and stamps them one second apart', () => {
    const booked = simulateCall(LEAD, sequence(0.9, 0), OPTIONS);
    expect(booked.events.map((event) => event.idempotency_key)).toEqual([
      'apex-sales:t:call:1:lead-x:attempted',
      'apex-sales:t:call:1:lead-x:connected',
      'apex-sales:t:call:1:lead-x:completed',
      'apex-sales:t:call:1:lead-x:booked',
    ]);
    expect(booked.events.map((event) => event.occurred_at)).toEqual([
      '2026-11-18T09:30:00.000Z',
      '2026-11-18T09:30:01.000Z',
      '2026-11-18T09:30:02.000Z',
      '2026-11-18T09:30:03.000Z',
    ]);
    const failed = simulateCall(LEAD, sequence(0.35, 0), OPTIONS);
    expect(failed.events[1]?.idempotency_key).toBe('apex-sales:t:call:1:lead-x:error');
  });

  it.each([
    ['a Wednesday morning', '2026-11-18T09:30:00Z', '2026-11-19'],
    ['a Wednesday just before midnight', '2026-11-18T23:59:59Z', '2026-11-19'],
    ['a Friday', '2026-11-20T15:00:00Z', '2026-11-23'],
    ['a Saturday', '2026-11-21T08:00:00Z', '2026-11-23'],
    ['a Sunday', '2026-11-22T20:00:00Z', '2026-11-23'],
    ['the last day of a year', '2026-12-31T12:00:00Z', '2027-01-01'],
  ])('books the next weekday after %s', (_label, now, day) => {
    const low = simulateCall(LEAD, sequence(0.9, 0), { ...OPTIONS, now: new Date(now) });
    const high = simulateCall(LEAD, sequence(0.9, 0.9999), { ...OPTIONS, now: new Date(now) });
    expect(low.meeting_time).toBe(`${day}T10:00:00.000Z`);
    expect(high.meeting_time).toBe(`${day}T16:00:00.000Z`);
  });

  it('books on a weekday, on a whole hour from 10:00 to 16:00 UTC, after now', () => {
    const random = seededRandom('meetings');
    const hours = new Set<number>();
    for (let i = 0; i < 2_000; i += 1) {
      const now = new Date(NOW.getTime() + i * 3_600_000 * 7);
      const result = simulateCall(LEAD, random, { ...OPTIONS, now });
      if (result.outcome !== 'meeting_booked') {
        expect(result.meeting_time).toBeNull();
        continue;
      }
      const meeting = new Date(result.meeting_time ?? '');
      expect(meeting.getTime()).toBeGreaterThan(now.getTime());
      expect([1, 2, 3, 4, 5]).toContain(meeting.getUTCDay());
      expect(meeting.getUTCHours()).toBeGreaterThanOrEqual(10);
      expect(meeting.getUTCHours()).toBeLessThanOrEqual(16);
      expect(meeting.getUTCMinutes() + meeting.getUTCSeconds() + meeting.getUTCMilliseconds()).toBe(
        0,
      );
      hours.add(meeting.getUTCHours());
    }
    expect([...hours].sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 14, 15, 16]);
  });

  it('draws outcomes with the documented probabilities (±2% over 10,000 calls)', () => {
    const random = seededRandom(2026);
    const counts: Record<CallOutcome, number> = {
      no_answer: 0,
      error: 0,
      not_interested: 0,
      callback: 0,
      meeting_booked: 0,
    };
    const draws = 10_000;
    for (let i = 0; i < draws; i += 1) counts[simulateCall(LEAD, random, OPTIONS).outcome] += 1;
    const expected: Record<CallOutcome, number> = {
      no_answer: 0.3,
      error: 0.1,
      not_interested: 0.25,
      callback: 0.15,
      meeting_booked: 0.2,
    };
    for (const [outcome, probability] of Object.entries(expected)) {
      expect(Math.abs(counts[outcome as CallOutcome] / draws - probability)).toBeLessThanOrEqual(
        0.02,
      );
    }
  });

  it.each([[1], [-0.1], [Number.NaN]])('refuses a random source returning %s', (value) => {
    expect(() => simulateCall(LEAD, () => value, OPTIONS)).toThrow(RangeError);
  });

  it('refuses a key prefix that is empty or leaves no room within 200 characters', () => {
    expect(() => simulateCall(LEAD, sequence(0.1), { ...OPTIONS, keyPrefix: '' })).toThrow(
      RangeError,
    );
    expect(() =>
      simulateCall(LEAD, sequence(0.1), { ...OPTIONS, keyPrefix: 'k'.repeat(191) }),
    ).toThrow(RangeError);
    const longest = simulateCall(LEAD, sequence(0.1), { ...OPTIONS, keyPrefix: 'k'.repeat(190) });
    expect(longest.events[0]?.idempotency_key).toHaveLength(200);
  });
});

describe('simulationRun', () => {
  const run = (runId: string, seed: number | string) =>
    simulationRun(runId, seededRandom(seed), NOW);

  it('calls each of the 10 sample leads once, in order', () => {
    const { calls } = run('run-1', 1);
    expect(calls.map((call) => call.lead_id)).toEqual(SAMPLE_CALL_LEADS.map((l) => l.lead_id));
  });

  it('gives identical calls and events for the same seed, runId and now', () => {
    expect(run('run-1', 99)).toEqual(run('run-1', 99));
    expect(run('run-1', 'seed')).toEqual(run('run-1', 'seed'));
  });

  it('gives different outcomes for different seeds', () => {
    const outcomes = (seed: number) => run('run-1', seed).calls.map((call) => call.outcome);
    expect(outcomes(1)).not.toEqual(outcomes(2));
  });

  it('keys every event uniquely and under apex-sales:<runId>:call:<index>:<lead_id>', () => {
    const { calls, events } = run('run-1', 5);
    const keys = events.map((event) => event.idempotency_key);
    expect(new Set(keys).size).toBe(keys.length);
    calls.forEach((call, i) => {
      for (const event of call.events) {
        expect(event.idempotency_key).toMatch(
          new RegExp(
            `^apex-sales:run-1:call:${i + 1}:${call.lead_id}:(attempted|connected|error|completed|booked)$`,
          ),
        );
      }
    });
  });

  it('uses disjoint keys for different runIds with the same seed', () => {
    const keysA = new Set(run('run-a', 5).events.map((event) => event.idempotency_key));
    const keysB = run('run-b', 5).events.map((event) => event.idempotency_key);
    expect(keysB.filter((key) => keysA.has(key))).toEqual([]);
  });

  it('stamps call i at now − (11 − i) minutes + k seconds: chronological, and over by now', () => {
    const { calls, events } = run('run-1', 11);
    calls.forEach((call, i) => {
      call.events.forEach((event, k) => {
        expect(event.occurred_at).toBe(
          new Date(NOW.getTime() - (calls.length - i) * 60_000 + k * 1_000).toISOString(),
        );
      });
    });
    expect(Math.max(...events.map((event) => Date.parse(event.occurred_at ?? '')))).toBeLessThan(
      NOW.getTime(),
    );
    const times = events.map((event) => Date.parse(event.occurred_at ?? ''));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(events).toEqual(calls.flatMap((call) => call.events));
  });

  it('summarises the calls it made', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { calls, summary } = run('run-1', seed);
      const count = (outcome: CallOutcome) => calls.filter((c) => c.outcome === outcome).length;
      expect(summary).toEqual({
        attempts: 10,
        connections: count('not_interested') + count('callback') + count('meeting_booked'),
        bookings: count('meeting_booked'),
        errors: count('error'),
        no_answers: count('no_answer'),
      });
      expect(summary.connections + summary.errors + summary.no_answers).toBe(10);
    }
  });

  it('produces only events the contract accepts', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      for (const event of run(`run-${seed}`, seed).events) {
        expect(TelemetryEvent.parse(event)).toEqual(event);
      }
    }
  });

  it('defaults now to the current time', () => {
    const before = Date.now();
    const { events } = simulationRun('run-1', seededRandom(1));
    const first = Date.parse(events[0]?.occurred_at ?? '');
    expect(first).toBeGreaterThanOrEqual(before - 10 * 60_000);
    expect(first).toBeLessThanOrEqual(Date.now() - 10 * 60_000);
  });

  it('refuses an empty runId', () => {
    expect(() => simulationRun('', seededRandom(1), NOW)).toThrow(RangeError);
  });
});
