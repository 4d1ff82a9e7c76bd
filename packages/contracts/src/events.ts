import { z } from 'zod';
import { IdempotencyKey, Identifier, StoredJsonObject, Timestamp } from './common.ts';
import { MAX_EVENTS_PER_BATCH } from './limits.ts';

/** One telemetry event as an agent sends it. */
export const TelemetryEvent = z.strictObject({
  /** What happened, e.g. `lead_ingested`. Types outside the contract's table are stored too. */
  type: Identifier,
  /** Unique per integration: re-sending an event with the same key stores nothing new. */
  idempotency_key: IdempotencyKey,
  /** When it happened; defaults to the time the port received it. */
  occurred_at: Timestamp.optional(),
  /** If given, must equal the source of the key's integration. */
  source: Identifier.optional(),
  /** Event details, at most 16 KiB serialized. */
  data: StoredJsonObject.optional(),
});
export type TelemetryEvent = z.infer<typeof TelemetryEvent>;

export const EmitEventRequestBody = TelemetryEvent;
export type EmitEventRequestBody = z.infer<typeof EmitEventRequestBody>;

export const EmitEventBatchRequestBody = z.strictObject({
  events: z
    .array(TelemetryEvent)
    .min(1, 'must hold at least one event')
    .max(MAX_EVENTS_PER_BATCH, `must hold at most ${MAX_EVENTS_PER_BATCH} events`),
});
export type EmitEventBatchRequestBody = z.infer<typeof EmitEventBatchRequestBody>;

/** `POST /events` takes either one event or `{ "events": [...] }`. */
export function isEventBatch(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
}

export const EventWriteStatus = z.enum(['created', 'duplicate']);
export type EventWriteStatus = z.infer<typeof EventWriteStatus>;

export const EmitEventResponse = z.object({
  status: EventWriteStatus,
  /** The stored event's id; for a duplicate, the id of the first one. */
  id: z.string(),
});
export type EmitEventResponse = z.infer<typeof EmitEventResponse>;

export const EmitEventBatchResponse = z.object({
  created: z.int().min(0),
  duplicates: z.int().min(0),
  /** One entry per event, in request order. */
  results: z.array(
    z.object({
      idempotency_key: z.string(),
      status: EventWriteStatus,
      id: z.string(),
    }),
  ),
});
export type EmitEventBatchResponse = z.infer<typeof EmitEventBatchResponse>;
