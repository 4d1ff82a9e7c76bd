/** A change as Supabase Realtime sends it (payload.data of a postgres_changes message). */
export interface Change {
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  schema: string;
  table: string;
  commit_timestamp: string;
  columns: { name: string; type: string }[];
  record: Record<string, unknown>;
  old_record: Record<string, unknown>;
  errors: null;
}

/** What a channel asked for in its join: `{event, schema, table?, filter?}`, with the id the server gave it. */
export interface Binding {
  id: number;
  event: '*' | 'INSERT' | 'UPDATE' | 'DELETE';
  schema: string;
  table?: string;
  filter?: string;
  /** The parsed filter, when there is one. */
  condition?: Condition;
}

export interface Condition {
  column: string;
  op: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';
  values: string[];
}

const EVENTS = new Set(['*', 'INSERT', 'UPDATE', 'DELETE']);
const OPS = new Set(['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in']);

/** Reads one postgres_changes entry of a join; throws with the reason Realtime would give. */
export function parseBinding(raw: unknown, id: number): Binding {
  const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const event = String(entry.event ?? '*').toUpperCase();
  if (!EVENTS.has(event))
    throw new Error(`unknown postgres_changes event ${JSON.stringify(entry.event)}`);
  const binding: Binding = {
    id,
    event: event as Binding['event'],
    schema: String(entry.schema ?? 'public'),
  };
  if (typeof entry.table === 'string') binding.table = entry.table;
  if (typeof entry.filter === 'string' && entry.filter !== '') {
    binding.filter = entry.filter;
    binding.condition = parseFilter(entry.filter);
  }
  return binding;
}

/** `column=op.value`, or `column=in.(a,b)` (values may be double-quoted). */
export function parseFilter(filter: string): Condition {
  const match = /^([^=]+)=([a-z]+)\.(.*)$/s.exec(filter);
  if (!match || !OPS.has(match[2]!)) {
    throw new Error(
      `invalid filter ${JSON.stringify(filter)}: use column=op.value with op one of ${[...OPS].join(', ')}`,
    );
  }
  const [, column, op, value] = match as unknown as [string, string, Condition['op'], string];
  if (op !== 'in') return { column, op, values: [value] };
  const list = /^\((.*)\)$/s.exec(value);
  if (!list) throw new Error(`invalid filter ${JSON.stringify(filter)}: in takes (a,b,…)`);
  return {
    column,
    op,
    values: list[1]!.split(',').map((item) => item.trim().replace(/^"(.*)"$/s, '$1')),
  };
}

/** Whether a change concerns a binding: event, schema, table and filter. */
export function matches(binding: Binding, change: Change): boolean {
  if (binding.event !== '*' && binding.event !== change.type) return false;
  if (binding.schema !== '*' && binding.schema !== change.schema) return false;
  if (binding.table !== undefined && binding.table !== '*' && binding.table !== change.table)
    return false;
  if (!binding.condition) return true;
  const row = change.type === 'DELETE' ? change.old_record : change.record;
  return satisfies(binding.condition, row[binding.condition.column]);
}

function satisfies(condition: Condition, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const compare = (wanted: string) => {
    const [a, b] = [Number(text), Number(wanted)];
    // Numbers compare as numbers; anything else (uuids, text, timestamps in ISO form) as text.
    return Number.isFinite(a) && Number.isFinite(b) && text.trim() !== '' && wanted.trim() !== ''
      ? a - b
      : text < wanted
        ? -1
        : text > wanted
          ? 1
          : 0;
  };
  const [first] = condition.values as [string];
  switch (condition.op) {
    case 'eq':
      return compare(first) === 0;
    case 'neq':
      return compare(first) !== 0;
    case 'lt':
      return compare(first) < 0;
    case 'lte':
      return compare(first) <= 0;
    case 'gt':
      return compare(first) > 0;
    case 'gte':
      return compare(first) >= 0;
    case 'in':
      return condition.values.some((wanted) => compare(wanted) === 0);
  }
}
