import {
  MAX_JSON_FIELD_BYTES,
  MAX_TASK_ERROR_CHARS,
  isStorableJson,
  toStorableJson,
  toStorableText,
} from '@omnihub/contracts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Applies the contract's output rule: over 16 KiB of serialized JSON, store
 * `{truncated: true, preview: <the first 16 KiB of it>}` instead. Text
 * Postgres cannot store becomes U+FFFD first: a result is never refused.
 */
export function boundTaskOutput(raw: unknown): { output: unknown; truncated: boolean } {
  if (raw === undefined) return { output: null, truncated: false };
  // Copy only when something must be replaced; almost every output is already fine.
  const output = isStorableJson(raw) ? raw : toStorableJson(raw);
  const text = JSON.stringify(output);
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most outputs need no encoding to know they fit.
  if (text.length * 3 <= MAX_JSON_FIELD_BYTES) return { output, truncated: false };
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= MAX_JSON_FIELD_BYTES) return { output, truncated: false };
  let end = MAX_JSON_FIELD_BYTES;
  // Cut on a character boundary: step back over UTF-8 continuation bytes.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return {
    output: { truncated: true, preview: decoder.decode(bytes.subarray(0, end)) },
    truncated: true,
  };
}

/** Long error texts (stack traces) are cut, and unstorable text replaced, rather than refused: a failing worker can always report. */
export function boundTaskError(error: string | null | undefined): string | null {
  if (error === undefined || error === null) return null;
  const storable = toStorableText(error);
  // Characters are code points, as Postgres's char_length counts them.
  const characters = Array.from(storable);
  if (characters.length <= MAX_TASK_ERROR_CHARS) return storable;
  return `${characters.slice(0, MAX_TASK_ERROR_CHARS - 1).join('')}…`;
}
