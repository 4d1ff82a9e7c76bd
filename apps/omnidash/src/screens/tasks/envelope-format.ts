import { ResultEnvelope, type EnvelopeRecord } from '@omnihub/contracts';

/** The output as a result envelope, or null when it is not one (it is then shown as JSON). */
export function asEnvelope(output: unknown): ResultEnvelope | null {
  const parsed = ResultEnvelope.safeParse(output);
  return parsed.success ? parsed.data : null;
}

const isIdColumn = (key: string) => key === 'id' || key.endsWith('_id');
const isNested = (value: unknown) => value !== null && typeof value === 'object';

/**
 * The records' fields as table columns; provenance has its own column.
 * Stored JSON (jsonb) does not keep key order, so the order is made here:
 * ids first, then plain fields, then lists and objects, each alphabetically.
 */
export function recordColumns(records: readonly EnvelopeRecord[]): string[] {
  const nested = new Set<string>();
  const columns = new Set<string>();
  for (const record of records)
    for (const [key, value] of Object.entries(record)) {
      if (key === 'provenance') continue;
      columns.add(key);
      if (isNested(value)) nested.add(key);
    }
  const rank = (key: string) => (isIdColumn(key) ? 0 : nested.has(key) ? 2 : 1);
  return [...columns].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Nothing to show, in a cell. */
export const EMPTY_CELL = '—';

/**
 * A value in one line: text and numbers as they are, lists joined with
 * commas, objects as `key: value` pairs; nested lists and objects in
 * brackets and braces so their ends can be told apart.
 */
export function compactValue(value: unknown): string {
  if (value === null || value === undefined) return EMPTY_CELL;
  if (Array.isArray(value)) return value.length === 0 ? EMPTY_CELL : value.map(nested).join(', ');
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0
      ? EMPTY_CELL
      : entries.map(([key, item]) => `${key}: ${nested(item)}`).join(', ');
  }
  return String(value);
}

function nested(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(nested).join(', ')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => `${key}: ${nested(item)}`)
      .join(', ')}}`;
  return value === null || value === undefined ? 'null' : String(value);
}
