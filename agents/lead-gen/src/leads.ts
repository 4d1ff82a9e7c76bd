import type { TelemetryEvent } from '@omnihub/contracts';

export interface SampleLead {
  lead_id: string;
  company: string;
  url: string;
  role: string;
  /** 0..1, 2 decimals. */
  score: number;
}

/** A lead with a score at or above this is qualified. */
export const QUALIFICATION_THRESHOLD = 0.7;

/** Fictional leads for the simulation: 8 in all, 5 qualified (one exactly at the threshold, one just under it). */
export const SAMPLE_LEADS: readonly SampleLead[] = Object.freeze([
  {
    lead_id: 'lead-001',
    company: 'Brightloom Software',
    url: 'https://brightloom-software.example.com',
    role: 'CTO',
    score: 0.92,
  },
  {
    lead_id: 'lead-002',
    company: 'Cobble Lane Grocers',
    url: 'https://cobble-lane-grocers.example.com',
    role: 'Head of Growth',
    score: 0.55,
  },
  {
    lead_id: 'lead-003',
    company: 'Ledgerlark',
    url: 'https://ledgerlark.example.com',
    role: 'VP Sales',
    score: 0.81,
  },
  {
    lead_id: 'lead-004',
    company: 'Tideway Freight',
    url: 'https://tideway-freight.example.com',
    role: 'Head of Operations',
    score: 0.74,
  },
  {
    lead_id: 'lead-005',
    company: 'Medinook',
    url: 'https://medinook.example.com',
    role: 'CEO',
    score: 0.69,
  },
  {
    lead_id: 'lead-006',
    company: 'Quillstack',
    url: 'https://quillstack.example.com',
    role: 'VP Sales',
    score: 0.88,
  },
  {
    lead_id: 'lead-007',
    company: 'Driftwood Outfitters',
    url: 'https://driftwood-outfitters.example.com',
    role: 'Marketing Director',
    score: 0.41,
  },
  {
    lead_id: 'lead-008',
    company: 'Harbourview Analytics',
    url: 'https://harbourview-analytics.example.com',
    role: 'Head of Growth',
    score: 0.7,
  },
]);

const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
/** How much a queued lead's score decays each time the queue is refreshed. */
const DECAY_PER_REFRESH_CENTS = 2;

export function isQualified(lead: SampleLead): boolean {
  return lead.score >= QUALIFICATION_THRESHOLD;
}

/**
 * Re-scores a queue of leads: every refresh takes 0.02 off each score (never
 * below 0), then the qualified leads are kept in their input order. The
 * input is not modified.
 */
export function rescoreQueue(
  leads: readonly SampleLead[],
  refreshes: number,
): { queue: SampleLead[]; queue_size: number; qualified_leads: number } {
  if (!Number.isSafeInteger(refreshes) || refreshes < 0) {
    throw new RangeError(`refreshes must be a non-negative integer, got ${refreshes}`);
  }
  // In whole cents, so 0.72 minus one refresh is exactly 0.7 and still qualifies.
  const queue = leads
    .map((lead) => ({
      ...lead,
      score: Math.max(0, Math.round(lead.score * 100) - DECAY_PER_REFRESH_CENTS * refreshes) / 100,
    }))
    .filter(isQualified);
  return { queue, queue_size: queue.length, qualified_leads: queue.length };
}

function leadData(lead: SampleLead): Record<string, unknown> {
  return { lead_id: lead.lead_id, url: lead.url, role: lead.role, score: lead.score };
}

/**
 * The 14 events of one simulated run: per lead, lead_ingested then
 * lead_qualified if it qualifies; queue_seeded last. Deterministic for a
 * runId and `now`, so re-sending a run stores nothing new; events are one
 * second apart from `now`.
 */
export function simulationEvents(runId: string, now: Date = new Date()): TelemetryEvent[] {
  if (runId.length === 0) {
    // An empty runId would make every run's keys collide, and the port would drop them as duplicates.
    throw new RangeError('runId must not be empty');
  }
  const steps: [type: string, key: string, data: Record<string, unknown>][] = [];
  for (const lead of SAMPLE_LEADS) {
    const keyBase = `lead-gen:${runId}:lead:${lead.lead_id}`;
    steps.push(['lead_ingested', `${keyBase}:ingested`, leadData(lead)]);
    if (isQualified(lead)) steps.push(['lead_qualified', `${keyBase}:qualified`, leadData(lead)]);
  }
  const { queue_size, qualified_leads } = rescoreQueue(SAMPLE_LEADS, 0);
  steps.push(['queue_seeded', `lead-gen:${runId}:queue_seeded`, { queue_size, qualified_leads }]);

  const tooLong = steps.find(([, key]) => key.length > MAX_IDEMPOTENCY_KEY_LENGTH);
  if (tooLong) {
    throw new RangeError(
      `runId is too long: idempotency key ${tooLong[1]} exceeds ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
    );
  }
  // One second apart, the last at `now`: the run has just happened (no event from the future).
  return steps.map(([type, idempotency_key, data], i) => ({
    type,
    idempotency_key,
    occurred_at: new Date(now.getTime() - (steps.length - 1 - i) * 1_000).toISOString(),
    data,
  }));
}
