import { z } from 'zod';
import { MAX_JSON_FIELD_BYTES, jsonByteLength } from './limits.ts';

/**
 * Marks a zod issue as "too large" so the port answers 413 `payload_too_large`
 * instead of 400, as the contract asks for oversized event data.
 */
export const PAYLOAD_TOO_LARGE = 'payload_too_large';

const IDENTIFIER_PATTERN = /^[a-z0-9_.:-]{1,100}$/;

/** Names of sources, targets, actions and event types: 1–100 chars of `[a-z0-9_.:-]`. */
export const Identifier = z
  .string()
  .regex(IDENTIFIER_PATTERN, "must be 1-100 characters of a-z, 0-9, '_', '.', ':' or '-'");

/** Caller-chosen key that makes a write safe to repeat. */
export const IdempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');

/** The id a worker process claims under; leases belong to it. */
export const WorkerId = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');

/** An ISO-8601 date-time with a time zone (`Z` or an offset). */
export const Timestamp = z.iso.datetime({
  offset: true,
  message: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z',
});

/** A JSON object (not an array or a scalar). */
export const JsonObject = z.record(z.string(), z.unknown());

/** A JSON object whose serialized form is at most 16 KiB; larger ones get 413. */
export const BoundedJsonObject = JsonObject.refine(
  (value) => jsonByteLength(value) <= MAX_JSON_FIELD_BYTES,
  {
    message: `must be at most ${MAX_JSON_FIELD_BYTES} bytes of serialized JSON`,
    params: { [PAYLOAD_TOO_LARGE]: true },
  },
);

export const TaskId = z.uuid({ message: 'must be a task id (a UUID)' });
