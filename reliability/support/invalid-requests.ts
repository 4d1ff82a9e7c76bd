import { MAX_BODY_BYTES } from '@omnihub/contracts';
import type { RawRequest } from './port-http.ts';
import {
  bodyIsAcceptable,
  fillPath,
  mainBranch,
  sampleBody,
  sampleValue,
  schemaTypes,
  type JsonSchema,
  type PortOperation,
  type SampleContext,
} from './port-operations.ts';
import { SeededRandom } from './seeded-random.ts';

/**
 * Bad requests for the OmniLink Port, generated from its OpenAPI document
 * and a seed. Each case starts from a request the port would carry out (a
 * valid body, the real running task, the worker holding it, a key with every
 * scope) and breaks one thing, so a check the port forgot shows up as a
 * change or a 2xx. Every body is run past the port's own schemas first
 * (bodyIsAcceptable): a mutation that happens to stay valid gets a second
 * fault, so no valid request is ever sent.
 */
export const CATEGORIES = {
  'wrong-type': 1500,
  'missing-field': 600,
  'unknown-field': 600,
  'huge-string': 260,
  'deep-json': 420,
  'invalid-utf8': 700,
  'content-type': 700,
  'oversized-body': 220,
  'non-json': 800,
  'bad-task-id': 1200,
  'sql-like': 1100,
  'out-of-range': 900,
  'bad-timestamp': 500,
  'bad-auth': 1000,
  'wrong-route': 300,
} as const;
export type Category = keyof typeof CATEGORIES;

export interface GeneratedCase {
  index: number;
  category: Category;
  operation: string;
  /** What is wrong with it, in words. */
  note: string;
  request: RawRequest;
  /** The statuses the contract allows for it. */
  expect: number[];
}

export interface GeneratorSetup {
  seed: number;
  operations: PortOperation[];
  apiKey: string;
  keyId: string;
  secret: string;
  /** The running task, the worker holding its lease, and the key's source. */
  taskId: string;
  workerId: string;
  source: string;
  /** A task of another tenant: its id must be as unknown as a random one. */
  otherTenantTaskId: string;
}

/** A fragment of JSON text put into a body as is (numbers JSON.stringify cannot write, escapes, deep nesting). */
class Raw {
  constructor(
    readonly text: string,
    readonly label: string,
  ) {}
}
type Path = (string | number)[];

const BODY_CATEGORIES = new Set<Category>([
  'wrong-type',
  'missing-field',
  'unknown-field',
  'huge-string',
  'deep-json',
  'sql-like',
  'out-of-range',
  'bad-timestamp',
]);
const RAW_BODY_CATEGORIES = new Set<Category>([
  'invalid-utf8',
  'content-type',
  'oversized-body',
  'non-json',
]);

// -- The plan: which category and operation each case index gets ---------------

/**
 * Which operations each category applies to, judged on a body with every
 * optional field present (e.g. only bodies with a date-time get bad timestamps).
 */
export function applicableOperations(setup: GeneratorSetup, category: Category): PortOperation[] {
  return setup.operations.filter((operation) => {
    if (category === 'wrong-route') return true;
    if (category === 'bad-auth') return operation.scopes !== null;
    if (category === 'bad-task-id') return operation.pathParams.length > 0;
    if (operation.bodies.length === 0) return false;
    if (RAW_BODY_CATEGORIES.has(category)) return true;
    const random = new SeededRandom(setup.seed);
    return operation.bodies.some(
      (shape) =>
        mutationsFor(category, shape, sampleWith(shape, setup, random, 1), setup, random).length >
        0,
    );
  });
}

export interface PlannedCase {
  category: Category;
  operation: PortOperation;
}

/** CATEGORIES' counts spread round-robin over the operations each applies to, then shuffled by the seed. */
export function planCases(setup: GeneratorSetup): PlannedCase[] {
  const plan: PlannedCase[] = [];
  for (const [category, count] of Object.entries(CATEGORIES) as [Category, number][]) {
    const operations = applicableOperations(setup, category);
    if (operations.length === 0) throw new Error(`no operation takes ${category} cases`);
    for (let i = 0; i < count; i++)
      plan.push({ category, operation: operations[i % operations.length]! });
  }
  const random = new SeededRandom(setup.seed);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  return plan;
}

// -- Building one case ---------------------------------------------------------

function contextFor(setup: GeneratorSetup, random: SeededRandom): SampleContext {
  return {
    taskId: setup.taskId,
    workerId: setup.workerId,
    source: setup.source,
    idempotencyKey: () => `k-${random.text(12, ALPHANUMERIC)}`,
  };
}

function sampleWith(
  shape: JsonSchema,
  setup: GeneratorSetup,
  random: SeededRandom,
  optional: number,
): unknown {
  return sampleValue(shape, contextFor(setup, random), random, optional);
}

/** Builds case `index` of the plan: the same seed and index give the same request. */
export function buildCase(
  setup: GeneratorSetup,
  planned: PlannedCase,
  index: number,
): GeneratedCase {
  const random = SeededRandom.forItem(setup.seed, index);
  const { category, operation } = planned;
  const built = BODY_CATEGORIES.has(category)
    ? bodyCase(setup, operation, category, random)
    : RAW_BODY_CATEGORIES.has(category)
      ? rawBodyCase(setup, operation, category, random)
      : category === 'bad-task-id'
        ? badTaskIdCase(setup, operation, random)
        : category === 'bad-auth'
          ? badAuthCase(setup, operation, random)
          : wrongRouteCase(setup, operation, random);
  if (random.chance(0.1)) {
    built.request.headers['x-request-id'] = random.pick(JUNK_REQUEST_IDS);
    built.note += '; junk x-request-id';
  }
  return { index, category, operation: operation.id, ...built };
}

type Built = Omit<GeneratedCase, 'index' | 'category' | 'operation'>;

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const JUNK_REQUEST_IDS = [
  '',
  'has spaces in it',
  'x'.repeat(500),
  "' or 1=1 --",
  '../../etc/passwd',
  'caf\u00e9',
];

function validRequestParts(
  setup: GeneratorSetup,
  operation: PortOperation,
  random: SeededRandom,
): { path: string; headers: Record<string, string>; body?: string } {
  const headers: Record<string, string> = { authorization: `Bearer ${setup.apiKey}` };
  const path = fillPath(operation, setup.taskId);
  if (operation.bodies.length === 0) return { path, headers };
  headers['content-type'] = 'application/json';
  const { value } = sampleBody(operation, contextFor(setup, random), random, random.next());
  return { path, headers, body: JSON.stringify(value) };
}

function bodyCase(
  setup: GeneratorSetup,
  operation: PortOperation,
  category: Category,
  random: SeededRandom,
): Built {
  let shape = random.pick(operation.bodies);
  let value = sampleWith(shape, setup, random, random.next());
  let options = mutationsFor(category, shape, value, setup, random);
  if (options.length === 0) {
    // This draw left out the fields the category needs: take them all.
    shape = operation.bodies.find(
      (s) => mutationsFor(category, s, sampleWith(s, setup, random, 1), setup, random).length > 0,
    )!;
    value = sampleWith(shape, setup, random, 1);
    options = mutationsFor(category, shape, value, setup, random);
  }
  const notes: string[] = [];
  let body = structuredClone(value);
  const count = random.chance(0.25) ? 2 : 1;
  for (let i = 0; i < count && options.length > 0; i++) {
    const mutation = random.pick(options);
    body = apply(body, mutation);
    notes.push(mutation.note);
    options = options.filter((m) => m !== mutation && !overlaps(m.path, mutation.path));
  }
  let text = toJsonText(body);
  if (bodyIsAcceptable(operation, text) && isObject(body)) {
    body = apply(body, {
      path: ['zz_unknown'],
      value: "'; drop table tasks; --",
      note: '',
    });
    notes.push('zz_unknown added (the change alone was still valid)');
    text = toJsonText(body);
  }
  if (bodyIsAcceptable(operation, text)) {
    throw new Error(
      `generator bug: a ${category} body the port would accept: ${text.slice(0, 300)}`,
    );
  }
  const bytes = Buffer.byteLength(text);
  const large = category === 'huge-string' || category === 'deep-json';
  return {
    note: notes.join('; '),
    request: {
      method: operation.method,
      path: fillPath(operation, setup.taskId),
      headers: { authorization: `Bearer ${setup.apiKey}`, 'content-type': 'application/json' },
      body: text,
      ownConnection: bytes > MAX_BODY_BYTES,
    },
    expect: bytes > MAX_BODY_BYTES ? [413] : large ? [400, 413] : [400],
  };
}

// -- Mutations of a JSON body -------------------------------------------------

interface Mutation {
  path: Path;
  /** DELETE removes the field; a Lazy is made only when applied (huge and deep values). */
  value: unknown;
  note: string;
}
const DELETE = Symbol('delete');
class Lazy {
  constructor(readonly make: () => unknown) {}
}

interface Slot {
  path: Path;
  schema: JsonSchema;
  present: boolean;
  value: unknown;
}

/** Every place in `value` (and every absent optional field) with its schema. */
function slotsOf(schema: JsonSchema, value: unknown, path: Path = [], out: Slot[] = []): Slot[] {
  out.push({ path, schema, present: value !== undefined, value });
  const main = mainBranch(schema);
  if (main.properties && isObject(value)) {
    for (const [key, child] of Object.entries(main.properties)) {
      slotsOf(child, value[key], [...path, key], out);
    }
  } else if (main.items && Array.isArray(value)) {
    value.forEach((item, i) => slotsOf(main.items!, item, [...path, i], out));
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Raw);

const pathText = (path: Path): string => (path.length === 0 ? '(the body)' : path.join('.'));

const overlaps = (a: Path, b: Path): boolean =>
  a.slice(0, b.length).join('\u0001') === b.join('\u0001') ||
  b.slice(0, a.length).join('\u0001') === a.join('\u0001');

const jsonType = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'number' && Number.isInteger(v)
        ? 'integer'
        : typeof v;

const allows = (types: Set<string> | 'any', value: unknown): boolean => {
  if (types === 'any') return true;
  const t = jsonType(value);
  return types.has(t) || (t === 'integer' && types.has('number'));
};

const WRONG_TYPED_VALUES: unknown[] = [
  'text',
  '',
  '1',
  'true',
  7,
  0,
  -1,
  1.5,
  true,
  false,
  null,
  [],
  [1, 'a'],
  {},
  { value: 1 },
];

/** Strings an injection would use; as values they must be refused or stored as plain text, never run. */
export const SQL_LIKE: unknown[] = [
  "'; drop table tasks; --",
  "' or 1=1 --",
  '" or ""="',
  '1); delete from public.tasks; --',
  "x' union select secret_sha256::text from omnilink.api_key_secrets --",
  '$$; truncate public.tasks cascade; $$',
  "'||(select pg_sleep(5))||'",
  "\\'; drop table tasks; --",
  "%' and 1=1 --",
  '\u0000',
  "a\u0000'; drop table tasks; --",
  "\ud800' or 1=1 --",
  '\\u0000',
  "' or tenant_id is not null --",
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '\u02bc or 1=1 --',
  '\uff07 or \uff11=\uff11 --',
  new Raw('"\\u0027; drop table tasks; --"', 'an escaped quote'),
  new Raw('"\\u0000"', 'an escaped NUL'),
  new Raw('"\\ud83d"', 'an escaped lone surrogate'),
  new Raw('"\\u0022); delete from public.tasks; --"', 'an escaped double quote'),
];

const BAD_TIMESTAMPS: unknown[] = [
  'year 99999',
  '99999-01-01T00:00:00Z',
  '+099999-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-02-30T10:00:00Z',
  '2026-11-31T10:00:00Z',
  '2026-11-21T24:00:01Z',
  '2026-11-21T10:60:00Z',
  '2026-11-21T10:00:61Z',
  '2026-11-21T10:00:00+16:00',
  '2026-11-21T10:00:00-99:00',
  '2026-11-21T10:00:00',
  '2026-11-21',
  '10:00:00Z',
  '2026-11-21 10:00:00Z',
  '2026-W47-6T10:00:00Z',
  'now',
  'today',
  'infinity',
  '-infinity',
  'epoch',
  'allballs',
  '',
  ' ',
  '2026-11-21T10:00:00Z; drop table tasks',
  "2026-11-21T10:00:00Z' or 1=1 --",
  '1700000000',
  1700000000,
  -1,
  new Raw('1e309', '1e309'),
  '\uff12\uff10\uff12\uff16-11-21T10:00:00Z',
  '2026-11-21T10:00:00ZZ',
  '2026-11-21T10:00:00.Z',
  '2026-11-21T10:00:00\u0000Z',
  '9'.repeat(5000),
];

const UNKNOWN_FIELDS = [
  'tenant_id',
  'id',
  'status',
  'attempts',
  'integration_id',
  'zz_unknown',
  'Worker_ID',
  'worker_id ',
  '',
  '__proto__',
  'constructor',
];

function outOfRangeValues(schema: JsonSchema): unknown[] {
  const min = schema.minimum;
  const max = schema.maximum;
  const candidates: unknown[] = [
    0,
    -1,
    1.5,
    -0.5,
    2 ** 53,
    -(2 ** 53),
    2 ** 31,
    1e12,
    1e21,
    new Raw('1e309', '1e309'),
    new Raw('-1e309', '-1e309'),
    new Raw('1E400', '1E400'),
    new Raw('4.000000000000001', '4.000000000000001'),
  ];
  if (min !== undefined) candidates.push(min - 1, min - 0.5);
  if (max !== undefined) candidates.push(max + 1, max + 0.5, max * 1000);
  return candidates.filter((v) => {
    const n = v instanceof Raw ? Number(JSON.parse(v.text)) : (v as number);
    return (
      !Number.isFinite(n) ||
      !Number.isInteger(n) ||
      (min !== undefined && n < min) ||
      (max !== undefined && n > max)
    );
  });
}

/** The ways `category` can break this body, one Mutation each. */
function mutationsFor(
  category: Category,
  shape: JsonSchema,
  value: unknown,
  setup: GeneratorSetup,
  random: SeededRandom,
): Mutation[] {
  const slots = slotsOf(shape, value);
  const out: Mutation[] = [];
  const set = (slot: Slot, v: unknown, what: string) =>
    out.push({ path: slot.path, value: v, note: `${pathText(slot.path)} ← ${what}` });
  for (const slot of slots) {
    const types = schemaTypes(slot.schema);
    const main = mainBranch(slot.schema);
    const stringy = types === 'any' || types.has('string');
    switch (category) {
      case 'wrong-type':
        for (const v of WRONG_TYPED_VALUES) if (!allows(types, v)) set(slot, v, JSON.stringify(v));
        break;
      case 'missing-field':
        if (slot.present && slot.path.length > 0) {
          const parent = slots.find((s) => s.path.join('.') === slot.path.slice(0, -1).join('.'));
          const required = parent && mainBranch(parent.schema).required;
          if (required?.includes(String(slot.path.at(-1)))) {
            out.push({
              path: slot.path,
              value: DELETE,
              note: `required ${pathText(slot.path)} left out`,
            });
          }
        }
        if (slot.present && isObject(slot.value) && main.required?.length) {
          out.push({
            path: slot.path,
            value: {},
            note: `${pathText(slot.path)} ← {} (every required field missing)`,
          });
        }
        break;
      case 'unknown-field':
        if (slot.present && isObject(slot.value) && main.additionalProperties === false) {
          for (const key of UNKNOWN_FIELDS) {
            const v = random.pick([setup.otherTenantTaskId, 'x', 1, null, {}, "' or 1=1 --"]);
            out.push({
              path: [...slot.path, key],
              value: v,
              note: `unknown field ${JSON.stringify(key)} in ${pathText(slot.path)}`,
            });
          }
        }
        break;
      case 'huge-string':
        if (stringy || (types.has('object') && !main.properties)) {
          const char = random.pick(['a', 'a', '\u00e9', '\u2603']);
          const bytes = random.int(100 * 1024, Math.floor(1.1 * 1024 * 1024));
          const length = Math.floor(bytes / Buffer.byteLength(char));
          const what = `a string of ${length} × ${JSON.stringify(char)} (${bytes} bytes)`;
          if (stringy) set(slot, new Lazy(() => char.repeat(length)), what);
          else set(slot, new Lazy(() => ({ text: char.repeat(length) })), `{"text": ${what}}`);
        }
        break;
      case 'deep-json': {
        const depth = random.pick([1000, 1001, 5000, random.int(1000, 20000), 100000]);
        const kind = random.pick(['[', '{"a":', '[{"a":']);
        const close = kind === '[' ? ']' : kind === '{"a":' ? '}' : '}]';
        const leaf = kind === '[' ? '' : '1';
        set(
          slot,
          new Lazy(() => new Raw(`${kind.repeat(depth)}${leaf}${close.repeat(depth)}`, '')),
          `JSON nested ${depth} deep (${kind}…)`,
        );
        break;
      }
      case 'sql-like':
        if (stringy || main.format || main.enum) {
          for (const v of SQL_LIKE) set(slot, v, describeValue(v));
        }
        if (slot.present && isObject(slot.value) && !main.properties) {
          const key = String(random.pick(SQL_LIKE.filter((v) => typeof v === 'string')));
          out.push({
            path: [...slot.path, key],
            value: 1,
            note: `key ${JSON.stringify(key)} in ${pathText(slot.path)}`,
          });
        }
        break;
      case 'out-of-range':
        if (types !== 'any' && (types.has('integer') || types.has('number'))) {
          for (const v of outOfRangeValues(main)) set(slot, v, describeValue(v));
        }
        if (main.maxLength !== undefined && main.type === 'string') {
          set(slot, 'x'.repeat(main.maxLength + 1), `${main.maxLength + 1} characters`);
        }
        if ((main.minLength ?? 0) >= 1 && main.type === 'string') set(slot, '', '""');
        if (slot.present && Array.isArray(slot.value)) {
          if ((main.minItems ?? 0) >= 1) set(slot, [], '[] (too few items)');
          if (main.maxItems !== undefined && slot.value.length > 0) {
            const item = slot.value[0];
            const items = Array.from({ length: main.maxItems + 1 }, () => structuredClone(item));
            set(slot, items, `${main.maxItems + 1} items`);
          }
        }
        break;
      case 'bad-timestamp':
        if (main.format === 'date-time') {
          for (const v of BAD_TIMESTAMPS) set(slot, v, describeValue(v));
        }
        break;
      default:
        throw new Error(`${category} is not a body mutation`);
    }
  }
  return out;
}

function describeValue(v: unknown): string {
  if (v instanceof Raw) return `${v.text.length > 60 ? v.label : v.text} (raw JSON)`;
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 60)}… (${text.length} chars)` : text;
}

function apply(root: unknown, mutation: Mutation): unknown {
  const value = mutation.value instanceof Lazy ? mutation.value.make() : mutation.value;
  if (mutation.path.length === 0) return value === DELETE ? {} : value;
  let parent = root as Record<string | number, unknown>;
  for (const key of mutation.path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  const last = mutation.path.at(-1)!;
  if (value === DELETE) delete parent[last];
  // defineProperty: a "__proto__" key must stay a plain own field, as JSON.parse makes it.
  else
    Object.defineProperty(parent, last, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return root;
}

/** JSON text of a body that may hold Raw fragments. */
function toJsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${toJsonText(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// -- Bodies that are not JSON of the right shape at all -------------------------

const INVALID_UTF8: number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc3],
  [0xc3, 0x28],
  [0xe2, 0x82],
  [0xc0, 0xaf],
  [0xc0, 0x80],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

const NON_JSON = [
  'hello',
  '{',
  '}',
  '{"worker_id":',
  "{'worker_id': 'w'}",
  '{"a":1,}',
  '[1,2',
  'NaN',
  'undefined',
  '<xml/>',
  '\u0000',
  'null',
  '1',
  '"text"',
  '[]',
  'true',
  '{"a":}',
  '{{}}',
  '{"a":1}{"b":2}',
  '/* comment */ {}',
  '\\',
  '{"a":"\\x41"}',
  '{"a":"\\u00"}',
  '{"a":"unterminated}',
  '{"a":01}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":0x10}',
  '{"a":Infinity}',
  '{"a":-}',
  '{"a" 1}',
];

function rawBodyCase(
  setup: GeneratorSetup,
  operation: PortOperation,
  category: Category,
  random: SeededRandom,
): Built {
  const { path, headers, body: valid } = validRequestParts(setup, operation, random);
  const validText = valid!;
  let body: string | Uint8Array | { chunks: Uint8Array[] };
  let note: string;
  let expect = [400];
  let ownConnection = false;
  switch (category) {
    case 'invalid-utf8': {
      const sequence = random.pick(INVALID_UTF8);
      const hex = sequence.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const where = random.int(0, 3);
      const text = Buffer.from(validText);
      if (where === 0) {
        // Inside a string value.
        const at = Math.max(validText.indexOf('"'), 0) + 1;
        body = Buffer.concat([text.subarray(0, at), Buffer.from(sequence), text.subarray(at)]);
        note = `bytes ${hex} inside the first string`;
      } else if (where === 1) {
        const at = random.int(0, text.length);
        body = Buffer.concat([text.subarray(0, at), Buffer.from(sequence), text.subarray(at)]);
        note = `bytes ${hex} at offset ${at}`;
      } else if (where === 2) {
        body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(validText, 'utf16le')]);
        note = 'the body in UTF-16LE with its BOM';
      } else {
        body = Buffer.from(validText.replace('"', '"caf\u00e9 '), 'latin1');
        note = 'the body in Latin-1 (a lone 0xe9 byte)';
      }
      break;
    }
    case 'content-type': {
      const fields = JSON.parse(validText) as Record<string, unknown>;
      const pairs: [string, string][] = Object.entries(fields).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]);
      const variant = random.int(0, 7);
      if (variant === 0) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(pairs).toString();
        note = 'a form-encoded body';
      } else if (variant === 1) {
        headers['content-type'] = 'multipart/form-data; boundary=XyZ';
        body = `${pairs.map(([k, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')}--XyZ--\r\n`;
        note = 'a multipart body';
      } else if (variant === 2) {
        headers['content-type'] = 'text/plain';
        body = pairs.map(([k, v]) => `${k}: ${v}`).join('\n');
        note = 'a text/plain body in "key: value" lines';
      } else if (variant === 3) {
        headers['content-type'] = 'application/xml';
        body = `<?xml version="1.0"?><body>${pairs.map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</body>`;
        note = 'an XML body';
      } else if (variant === 4) {
        delete headers['content-type'];
        body = Buffer.from(new URLSearchParams(pairs).toString());
        note = 'no content type and a form-encoded body';
      } else if (variant === 5) {
        headers['content-type'] = 'application/json; charset=utf-16';
        body = Buffer.from(validText, 'utf16le');
        note = 'JSON in UTF-16LE (no BOM), declared as charset=utf-16';
      } else if (variant === 6) {
        headers['content-type'] = 'application/octet-stream';
        body = Buffer.from(Array.from({ length: random.int(1, 2000) }, () => random.int(0, 255)));
        note = 'random bytes as application/octet-stream';
      } else {
        headers['content-type'] = random.pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'image/png',
        ]);
        delete fields[Object.keys(fields)[0]!];
        body = JSON.stringify({ ...fields, zz_unknown: true });
        note = `a JSON body missing a field with an unknown one, as ${headers['content-type']}`;
      }
      break;
    }
    case 'oversized-body': {
      const size = random.pick([
        MAX_BODY_BYTES + 1,
        random.int(MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 512 * 1024),
      ]);
      const variant = random.int(0, 2);
      ownConnection = true;
      expect = [413];
      if (variant === 0) {
        body = validText + ' '.repeat(size - Buffer.byteLength(validText));
        note = `a valid body padded with spaces to ${size} bytes`;
      } else if (variant === 1) {
        const padded = Buffer.from(validText + ' '.repeat(size - Buffer.byteLength(validText)));
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < padded.length; at += 64 * 1024)
          chunks.push(padded.subarray(at, at + 64 * 1024));
        body = { chunks };
        note = `a valid body padded to ${size} bytes, chunked without a length`;
      } else {
        const fields = JSON.parse(validText) as Record<string, unknown>;
        const base = JSON.stringify({ ...fields, pad: '' });
        body = JSON.stringify({ ...fields, pad: 'p'.repeat(size - Buffer.byteLength(base)) });
        note = `a body with a "pad" string, ${size} bytes in all`;
      }
      break;
    }
    default: {
      const variant = random.int(0, 4);
      if (variant <= 1) {
        body = random.pick(NON_JSON);
        note = `the body ${JSON.stringify(body)}`;
      } else if (variant === 2) {
        const cut = random.int(1, validText.length - 1);
        body = validText.slice(0, cut);
        note = `a valid body cut after ${cut} of ${validText.length} characters`;
      } else if (variant === 3) {
        body = validText + random.pick([',', '}', ']', 'x', ' garbage', '\u0000']);
        note = 'a valid body followed by garbage';
      } else {
        body = random.text(random.int(1, 300), '{}[]":,abc01 \n\\');
        note = 'random JSON punctuation';
      }
      if (bodyIsAcceptable(operation, body)) {
        body += '}';
        note += ', plus a "}"';
      }
    }
  }
  if (bodyIsAcceptable(operation, flatten(body)) && !ownConnection) {
    throw new Error(`generator bug: a ${category} body the port would accept (${note})`);
  }
  return {
    note,
    request: { method: operation.method, path, headers, body, ownConnection },
    expect,
  };
}

function flatten(body: string | Uint8Array | { chunks: Uint8Array[] }): string | Uint8Array {
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return Buffer.concat(body.chunks);
}

// -- Bad task ids, bad keys, wrong routes -----------------------------------------

function badTaskIds(setup: GeneratorSetup, random: SeededRandom): [string, string][] {
  const real = setup.taskId;
  const enc = encodeURIComponent;
  return [
    ['abc', 'not a uuid'],
    ['1', 'a number'],
    ['-1', 'a negative number'],
    ['null', '"null"'],
    ['undefined', '"undefined"'],
    [random.uuid(), 'a uuid of no task'],
    ['00000000-0000-0000-0000-000000000000', 'the nil uuid'],
    ['ffffffff-ffff-ffff-ffff-ffffffffffff', 'the max uuid'],
    [setup.otherTenantTaskId, "another tenant's task"],
    [real.slice(0, -1), 'the task id minus its last character'],
    [`${real}0`, 'the task id plus a character'],
    [enc(`{${real}}`), 'the task id in braces'],
    [real.replace(/-/g, ''), 'the task id without dashes'],
    [`${real.slice(0, -1)}g`, 'the task id with a non-hex character'],
    ['..', '..'],
    ['.', '.'],
    ['..%2F', '..%2F'],
    ['%2e%2e', '%2e%2e'],
    ['..%2Fevents', '..%2Fevents'],
    ['%2e%2e%2fevents', '%2e%2e%2fevents'],
    ['..%5C..%5C', '..\\..\\ encoded'],
    ['%', 'a lone %'],
    ['%Z', '%Z'],
    ['%ZZ', '%ZZ'],
    ['%00', '%00'],
    ['%FF%FE', '%FF%FE'],
    ['%E2%82', 'a truncated UTF-8 escape'],
    ['%C0%AF', 'an overlong UTF-8 escape'],
    ['%u0041', '%u0041'],
    ['%0A', 'an encoded newline'],
    [`${real}%00`, 'the task id and an encoded NUL'],
    [`${real}%20`, 'the task id and an encoded space'],
    [`%20${real}`, 'an encoded space and the task id'],
    [`${real}%0D%0A`, 'the task id and an encoded CRLF'],
    ['a'.repeat(random.int(1000, 8000)), 'a very long id'],
    [real.repeat(100), 'the task id 100 times'],
    [enc("' or 1=1 --"), "' or 1=1 --"],
    [enc('1; drop table tasks'), '1; drop table tasks'],
    [enc(`${real}' or '1'='1`), "the task id and ' or '1'='1"],
    [enc("'; delete from public.tasks; --"), "'; delete from public.tasks; --"],
    [enc('\u00fc'), 'ü'],
    [enc('\ud83d\ude00'), 'an emoji'],
    [enc('\uff11\uff12\uff13'), 'full-width digits'],
    [
      enc(real.replace(/\d/, (d) => String.fromCharCode(0xff10 + Number(d)))),
      'the task id with a full-width digit',
    ],
  ];
}

function badTaskIdCase(
  setup: GeneratorSetup,
  operation: PortOperation,
  random: SeededRandom,
): Built {
  const { headers, body } = validRequestParts(setup, operation, random);
  // '.', '..' and '%2e%2e' are dot segments: the URL is resolved to another
  // path before routing. Leave out those that land on a route that exists
  // (e.g. /tasks/./complete is POST /tasks/complete): that is another endpoint's case.
  const ids = badTaskIds(setup, random).filter(([id]) => {
    const raw = fillPath(operation, id);
    const resolved = new URL(`http://h/omnilink-port${raw}`).pathname.replace(
      /^\/omnilink-port/,
      '',
    );
    return resolved === raw || !routeExists(setup.operations, operation.method, resolved);
  });
  const [id, what] = random.pick(ids);
  return {
    note: `task id: ${what}`,
    request: { method: operation.method, path: fillPath(operation, id), headers, body },
    expect: [404],
  };
}

function badAuthorizations(
  setup: GeneratorSetup,
  random: SeededRandom,
): [string | undefined, string][] {
  const { keyId, secret, apiKey } = setup;
  const at = random.int(0, secret.length - 1);
  const swapped = ALPHANUMERIC.replace(secret[at]!, '');
  const tampered = `${secret.slice(0, at)}${random.pick([...swapped])}${secret.slice(at + 1)}`;
  return [
    [undefined, 'no Authorization header'],
    ['', 'an empty Authorization header'],
    ['Bearer', '"Bearer"'],
    ['Bearer ', '"Bearer "'],
    ['bearer', '"bearer"'],
    ['Bearer omni..', '"Bearer omni.."'],
    ['omni..', '"omni.."'],
    ['Bearer omni', '"Bearer omni"'],
    [`Bearer omni.${keyId}`, 'no secret'],
    [`Bearer omni.${keyId}.`, 'an empty secret'],
    [`Bearer omni.${keyId}.${secret.slice(0, 31)}`, 'a 31-character secret'],
    [`Bearer omni.${keyId}.${tampered}`, `the secret with character ${at} changed`],
    [`Bearer omni.${keyId}.${secret}x`, 'the secret plus a character'],
    [`Bearer omni.${keyId}.${secret.slice(1)}`, 'the secret minus its first character'],
    // (Only when the key id has a letter: an all-digit id in capitals is the same id.)
    ...(/[a-z]/.test(keyId)
      ? ([[`Bearer omni.${keyId.toUpperCase()}.${secret}`, 'the key id in capitals']] as [
          string,
          string,
        ][])
      : []),
    [
      `Bearer omni.${random.text(12, 'abcdefghijklmnopqrstuvwxyz0123456789')}.${secret}`,
      'an unknown key id with the right secret',
    ],
    [`Bearer ${apiKey} extra`, 'a third part after the key'],
    [`Bearer ${apiKey}, Bearer ${apiKey}`, 'the key twice in one header'],
    [
      `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`,
      'Basic with the key id and secret',
    ],
    [`Token ${apiKey}`, 'scheme Token'],
    [apiKey, 'the key without a scheme'],
    [`Bearer: ${apiKey}`, 'scheme "Bearer:"'],
    [`Bearer=${apiKey}`, '"Bearer=<key>"'],
    [`Bearer ${apiKey.replace('omni.', 'omni:')}`, 'omni: instead of omni.'],
    [`Bearer ${'a'.repeat(random.int(2000, 12000))}`, 'a huge token'],
    [`Bearer omni.${keyId}.${'A'.repeat(random.int(257, 5000))}`, 'a secret over 256 characters'],
    [`Bearer omni.cl\u00e9.${secret}`, 'a Latin-1 key id'],
    [`Bearer ${apiKey}\u00e9`, 'the key with a Latin-1 character after it'],
    ['Bearer \u00ff\u00ff\u00ff\u00ff', 'Latin-1 bytes'],
    [`Bearer omni.${keyId}.${secret.slice(0, -1)}\u00df`, 'the secret ending in ß'],
    [`Bearer omni.x' or '1'='1.${secret}`, 'SQL in the key id'],
    [`Bearer omni.${keyId}.' or 1=1 --aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`, 'SQL in the secret'],
  ];
}

function badAuthCase(setup: GeneratorSetup, operation: PortOperation, random: SeededRandom): Built {
  const { path, headers, body } = validRequestParts(setup, operation, random);
  const [authorization, what] = random.pick(badAuthorizations(setup, random));
  if (authorization === undefined) delete headers.authorization;
  else headers.authorization = authorization;
  return {
    note: `otherwise valid, with ${what}`,
    request: { method: operation.method, path, headers, body },
    expect: [401],
  };
}

/** Whether some operation serves `method` at `path` (`{id}` matching any one segment). */
function routeExists(operations: PortOperation[], method: string, path: string): boolean {
  return operations.some(
    (o) =>
      o.method === method &&
      new RegExp(
        `^${o.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
      ).test(path),
  );
}

function wrongRouteCase(
  setup: GeneratorSetup,
  operation: PortOperation,
  random: SeededRandom,
): Built {
  const parts = validRequestParts(setup, operation, random);
  const real = setup.taskId;
  const options: [string, string][] = [];
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
    if (!routeExists(setup.operations, method, parts.path)) options.push([method, parts.path]);
  }
  for (const path of [
    '/nope',
    `/tasks/${real}/cancel`,
    '/TASKS',
    '/Events',
    `${parts.path}/`,
    `${parts.path}.json`,
    `${parts.path};x=1`,
    `/v1${parts.path}`,
    `/omnilink-port${parts.path}`,
    `/tasks/${real}/heartbeat/extra`,
  ]) {
    if (!routeExists(setup.operations, operation.method, path))
      options.push([operation.method, path]);
  }
  const [method, path] = random.pick(options);
  const body = method === 'GET' ? undefined : (parts.body ?? '{}');
  const headers = { ...parts.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return {
    note: `no route ${method} ${path}`,
    request: { method, path, headers, body },
    expect: [404],
  };
}
