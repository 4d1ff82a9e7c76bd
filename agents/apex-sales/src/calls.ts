import type { TelemetryEvent } from '@omnihub/contracts';

export type CallOutcome = 'no_answer' | 'error' | 'not_interested' | 'callback' | 'meeting_booked';

export interface CallLead {
  lead_id: string;
  phone: string;
  name: string;
}

/**
 * The leads a simulated run calls, one call each. Every number is in Ofcom's
 * London drama range (020 7946 0000–0999), so nothing here can ring a real line.
 */
export const SAMPLE_CALL_LEADS: readonly CallLead[] = Object.freeze([
  { lead_id: 'lead-101', phone: '+44 20 7946 0101', name: 'Ada Whitlock' },
  { lead_id: 'lead-102', phone: '+44 20 7946 0102', name: 'Bram Okafor' },
  { lead_id: 'lead-103', phone: '+44 20 7946 0103', name: 'Cora Lindqvist' },
  { lead_id: 'lead-104', phone: '+44 20 7946 0104', name: 'Dev Raman' },
  { lead_id: 'lead-105', phone: '+44 20 7946 0105', name: 'Elin Farrow' },
  { lead_id: 'lead-106', phone: '+44 20 7946 0106', name: 'Finn Abernethy' },
  { lead_id: 'lead-107', phone: '+44 20 7946 0107', name: 'Greta Moss' },
  { lead_id: 'lead-108', phone: '+44 20 7946 0108', name: 'Hugo Castellan' },
  { lead_id: 'lead-109', phone: '+44 20 7946 0109', name: 'Isla Penrose' },
  { lead_id: 'lead-110', phone: '+44 20 7946 0110', name: 'Jonah Tremaine' },
]);

export interface CallResult {
  lead_id: string;
  outcome: CallOutcome;
  connected: boolean;
  meeting_time: string | null;
  events: TelemetryEvent[];
}

/** Cumulative bands over one draw in [0, 1); the widths are the outcome probabilities. */
const OUTCOME_BANDS: readonly (readonly [CallOutcome, number])[] = [
  ['no_answer', 0.3],
  ['error', 0.4],
  ['not_interested', 0.65],
  ['callback', 0.8],
  ['meeting_booked', 1],
];

const CONNECTED_OUTCOMES: ReadonlySet<CallOutcome> = new Set([
  'not_interested',
  'callback',
  'meeting_booked',
]);

const ERROR_REASONS = ['carrier_rejected', 'invalid_number', 'dialer_timeout'] as const;

const FIRST_MEETING_HOUR = 10;
const LAST_MEETING_HOUR = 16;

const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
const LONGEST_KEY_SUFFIX = ':attempted';

const MS_PER_SECOND = 1_000;
const MS_PER_DAY = 86_400_000;

/** A random source that strays outside [0, 1) would silently skew every outcome. */
function draw(random: () => number): number {
  const value = random();
  if (!(value >= 0 && value < 1)) {
    throw new RangeError(`random source must return a number in [0, 1), got ${value}`);
  }
  return value;
}

/** Picks `items[i]` with every index equally likely. */
function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(draw(random) * items.length)] as T;
}

function outcomeFor(value: number): CallOutcome {
  for (const [outcome, upperBound] of OUTCOME_BANDS) {
    if (value < upperBound) return outcome;
  }
  return 'meeting_booked';
}

/** A whole-hour slot (10:00–16:00 UTC, inclusive) on the first Monday–Friday after `now`'s UTC day. */
function meetingTime(now: Date, random: () => number): string {
  const day = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + MS_PER_DAY,
  );
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) {
    day.setTime(day.getTime() + MS_PER_DAY);
  }
  const hours = Array.from(
    { length: LAST_MEETING_HOUR - FIRST_MEETING_HOUR + 1 },
    (_, i) => FIRST_MEETING_HOUR + i,
  );
  day.setUTCHours(pick(hours, random));
  return day.toISOString();
}

/**
 * One simulated call and the events it produces, in order: call_attempted;
 * then call_connected (connected outcomes) or error (outcome 'error';
 * no-answer has neither); call_completed; meeting_booked when booked.
 * The k-th event occurs k seconds after `now`. Draws from `random`: one for
 * the outcome, then one for the error reason or the meeting hour.
 */
export function simulateCall(
  lead: CallLead,
  random: () => number,
  options: { keyPrefix: string; now: Date },
): CallResult {
  const { keyPrefix, now } = options;
  if (keyPrefix.length === 0) {
    // An empty prefix would make every run's keys collide, and the port would drop them as duplicates.
    throw new RangeError('keyPrefix must not be empty');
  }
  if (keyPrefix.length + LONGEST_KEY_SUFFIX.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new RangeError(
      `keyPrefix must leave room for idempotency keys of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
    );
  }

  const outcome = outcomeFor(draw(random));
  const connected = CONNECTED_OUTCOMES.has(outcome);
  const { lead_id, phone } = lead;

  const steps: [type: string, suffix: string, data: Record<string, unknown>][] = [
    ['call_attempted', 'attempted', { lead_id, phone }],
  ];
  if (connected) steps.push(['call_connected', 'connected', { lead_id, phone }]);
  if (outcome === 'error') {
    const reason = pick(ERROR_REASONS, random);
    steps.push(['error', 'error', { lead_id, reason, error_type: 'telephony' }]);
  }
  steps.push(['call_completed', 'completed', { lead_id, outcome }]);
  let meeting_time: string | null = null;
  if (outcome === 'meeting_booked') {
    meeting_time = meetingTime(now, random);
    steps.push(['meeting_booked', 'booked', { lead_id, phone, meeting_time }]);
  }

  const events = steps.map(([type, suffix, data], k): TelemetryEvent => ({
    type,
    idempotency_key: `${keyPrefix}:${suffix}`,
    occurred_at: new Date(now.getTime() + k * MS_PER_SECOND).toISOString(),
    data,
  }));
  return { lead_id, outcome, connected, meeting_time, events };
}

/**
 * One simulated run: a call to each of SAMPLE_CALL_LEADS (index 1..10), call i
 * starting 11 − i minutes before `now`, so the combined event stream is
 * chronological and over by `now` (dashboards show no events from the future).
 */
export function simulationRun(
  runId: string,
  random: () => number,
  now: Date = new Date(),
): {
  calls: CallResult[];
  events: TelemetryEvent[];
  summary: {
    attempts: number;
    connections: number;
    bookings: number;
    errors: number;
    no_answers: number;
  };
} {
  if (runId.length === 0) throw new RangeError('runId must not be empty');
  const calls = SAMPLE_CALL_LEADS.map((lead, i) => {
    const index = i + 1;
    return simulateCall(lead, random, {
      keyPrefix: `apex-sales:${runId}:call:${index}:${lead.lead_id}`,
      // Calls a minute apart, the last one starting a minute before `now`: the run has just happened.
      now: new Date(now.getTime() - (SAMPLE_CALL_LEADS.length - i) * 60 * MS_PER_SECOND),
    });
  });
  const count = (outcome: CallOutcome) => calls.filter((call) => call.outcome === outcome).length;
  return {
    calls,
    events: calls.flatMap((call) => call.events),
    summary: {
      attempts: calls.length,
      connections: calls.filter((call) => call.connected).length,
      bookings: count('meeting_booked'),
      errors: count('error'),
      no_answers: count('no_answer'),
    },
  };
}
