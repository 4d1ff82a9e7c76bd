import { MAX_JSON_DEPTH } from './limits.ts';

/**
 * What Postgres cannot store: text and jsonb refuse U+0000, and JSON text
 * refuses an unpaired surrogate (half an emoji, e.g. from a careless slice).
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export const UNSTORABLE_TEXT_MESSAGE =
  'must not contain a \\u0000 character or an unpaired surrogate (half of an emoji)';

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** Replaces what Postgres cannot store with U+FFFD. */
export function toStorableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, '\uFFFD');
}

/** How deep `value` nests (a scalar is 0, `{}` is 1), counted without recursion so absurd depths are safe. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** True when every string and key in `value` can be stored. */
export function isStorableJson(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') {
      if (!isStorableText(item)) return false;
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        if (!isStorableText(key)) return false;
        stack.push(child);
      }
    }
  }
  return true;
}

/** A copy of `value` with every string and key made storable (depth must already be bounded). */
export function toStorableJson(value: unknown): unknown {
  if (typeof value === 'string') return toStorableText(value);
  if (Array.isArray(value)) return value.map(toStorableJson);
  if (typeof value === 'object' && value !== null) {
    // fromEntries defines own properties, so even a "__proto__" key stays data.
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [toStorableText(key), toStorableJson(child)]),
    );
  }
  return value;
}
