/** Size limits fixed by the OmniLink Port contract (PORT-API.md). */

/** Request bodies over this many bytes are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** An event's `data`, a task's `payload` and a stored task `output` are capped at this many bytes of serialized JSON. */
export const MAX_JSON_FIELD_BYTES = 16 * 1024;

/** A batch of events holds at most this many events. */
export const MAX_EVENTS_PER_BATCH = 500;

/** JSON fields may nest this many levels; deeper is refused (it is never real data, and it exhausts parsers). */
export const MAX_JSON_DEPTH = 100;

/** A task error message is stored up to this many characters; longer ones are cut, as outputs are. */
export const MAX_TASK_ERROR_CHARS = 4000;

const encoder = new TextEncoder();

/** Bytes of the compact JSON serialization of `value`, the measure every size limit of the contract uses. */
export function jsonByteLength(value: unknown): number {
  return encoder.encode(JSON.stringify(value) ?? '').byteLength;
}
