import { z } from 'zod';
import { MAX_JSON_DEPTH, MAX_JSON_FIELD_BYTES, jsonByteLength } from './limits.ts';
import { UNSTORABLE_TEXT_MESSAGE, isStorableJson, isStorableText, jsonDepth } from './storable.ts';

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
  .max(200, 'must be at most 200 characters')
  .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);

/** The id a worker process claims under; leases belong to it. */
export const WorkerId = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);

/** Postgres takes years 1 to 9999 in this form and UTC offsets up to ±15:59. */
function isStorableTimestamp(text: string): boolean {
  const offset = /([+-])(\d\d):?(\d\d)$/.exec(text);
  return !text.startsWith('0000') && (!offset || Number(offset[2]) <= 15);
}

/** An ISO-8601 date-time with a time zone (`Z` or an offset). */
export const Timestamp = z.iso
  .datetime({
    offset: true,
    message: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z',
  })
  .refine(isStorableTimestamp, 'must have a year from 0001 and a UTC offset within ±15:59');

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A JSON object (not an array or a scalar). Checked, not rebuilt, so what
 * is stored is exactly what was sent (a rebuilt copy would turn a
 * "__proto__" key into a prototype and lose it).
 */
export const JsonObject = z
  .custom<Record<string, unknown>>(isJsonObject, { message: 'must be a JSON object' })
  .meta({ type: 'object', additionalProperties: {} });

/** Nested at most MAX_JSON_DEPTH levels. */
export const DEPTH_MESSAGE = `must not nest deeper than ${MAX_JSON_DEPTH} levels`;
export const isWithinJsonDepth = (value: unknown) => jsonDepth(value) <= MAX_JSON_DEPTH;

/**
 * A JSON object of at most 16 KiB serialized (larger gets 413) and at most
 * 100 levels deep. Used as is for what a worker reports (progress), which the
 * port makes storable rather than refuses.
 */
export const BoundedJsonObject = JsonObject
  // Depth first: serializing absurdly deep JSON to measure it would overflow the stack.
  .refine(isWithinJsonDepth, { message: DEPTH_MESSAGE, abort: true })
  .refine((value) => jsonByteLength(value) <= MAX_JSON_FIELD_BYTES, {
    message: `must be at most ${MAX_JSON_FIELD_BYTES} bytes of serialized JSON`,
    params: { [PAYLOAD_TOO_LARGE]: true },
    abort: true,
  });

/** A bounded JSON object whose every string can be stored: event data, task payloads. */
export const StoredJsonObject = BoundedJsonObject.refine(isStorableJson, {
  message: `strings and keys ${UNSTORABLE_TEXT_MESSAGE}`,
});

export const TaskId = z.uuid({ message: 'must be a task id (a UUID)' });
