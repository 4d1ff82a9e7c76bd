import { z } from 'zod';
import { Identifier, TaskId, Timestamp } from './common.ts';

/**
 * The canonical result envelope of product note 001: what an agent's task
 * returns when its result is a set of records, `{metadata, records}`, every
 * record saying where its data came from (`provenance`). Envelopes travel
 * between tasks of a chain (Enrichment reads Discovery's output) and OmniDash
 * shows them as tables, so both sides check them with this one schema.
 */

/** Where one record's data came from. Strict, so a misspelt field is caught where the envelope is built. */
export const Provenance = z.strictObject({
  /** What supplied the data: a directory, a simulator, a formula, an API. */
  source: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  /** How it was obtained from the source, e.g. `directory_match`. */
  method: z.string().min(1, 'must not be empty').max(200).optional(),
  retrieved_at: Timestamp,
  url: z.url({ message: 'must be a URL' }).optional(),
  /** The OmniHub task that produced the record. */
  task_id: TaskId.optional(),
});
export type Provenance = z.infer<typeof Provenance>;

/** Counts and short facts about the run, shown above the records. */
export const EnvelopeSummary = z.record(z.string(), z.union([z.number(), z.string()]));
export type EnvelopeSummary = z.infer<typeof EnvelopeSummary>;

export const EnvelopeMetadata = z.strictObject({
  /** Shared by every envelope of one run (a chain's tasks), else the task's own id. */
  run_id: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  /** The agent that produced it, by its source: `lead-gen`. */
  agent: Identifier,
  /** The task action that produced it. */
  action: Identifier,
  generated_at: Timestamp,
  summary: EnvelopeSummary.optional(),
});
export type EnvelopeMetadata = z.infer<typeof EnvelopeMetadata>;

/** One record: any fields, plus its provenance (required). Loose, so the fields are kept as sent. */
export const EnvelopeRecord = z.looseObject({ provenance: Provenance });
export type EnvelopeRecord = z.infer<typeof EnvelopeRecord>;

export const ResultEnvelope = z.strictObject({
  metadata: EnvelopeMetadata,
  records: z.array(EnvelopeRecord),
});
export type ResultEnvelope = z.infer<typeof ResultEnvelope>;

export interface EnvelopeInput<R extends object> {
  runId: string;
  agent: string;
  action: string;
  records: readonly (R & { provenance: Provenance })[];
  summary?: EnvelopeSummary;
  /** Defaults to now. */
  generatedAt?: Date;
}

/**
 * Builds an envelope and checks it with ResultEnvelope, so an agent that
 * builds a wrong one fails its task rather than handing it downstream.
 */
export function envelope<R extends object>(input: EnvelopeInput<R>): ResultEnvelope {
  return ResultEnvelope.parse({
    metadata: {
      run_id: input.runId,
      agent: input.agent,
      action: input.action,
      generated_at: (input.generatedAt ?? new Date()).toISOString(),
      ...(input.summary ? { summary: input.summary } : {}),
    },
    records: input.records,
  });
}
