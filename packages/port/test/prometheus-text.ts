/**
 * A strict reader of the Prometheus text format 0.0.4, for tests only: it
 * throws on anything Prometheus itself would reject (and on a few things it
 * tolerates, such as comments that are not HELP/TYPE, which our output never
 * has), so "it parses" means the scrape would succeed.
 */

export interface ParsedFamily {
  help?: string;
  type?: string;
  samples: { labels: Record<string, string>; value: number }[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

function unescapeLabel(raw: string): string {
  return raw.replace(/\\([\\"n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function unescapeHelp(raw: string, lineNo: number): string {
  return raw.replace(/\\(.?)/g, (_, c: string) => {
    if (c === 'n') return '\n';
    if (c === '\\') return c;
    throw new Error(`line ${lineNo}: bad escape in HELP`);
  });
}

function parseLabels(raw: string, lineNo: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = raw;
  while (rest.length > 0) {
    const match = LABEL.exec(rest);
    if (!match) throw new Error(`line ${lineNo}: bad label at ${JSON.stringify(rest)}`);
    const [whole, name, value] = match;
    if (name! in labels) throw new Error(`line ${lineNo}: label ${name} twice`);
    labels[name!] = unescapeLabel(value!);
    rest = rest.slice(whole.length);
    if (rest.length === 0) break;
    if (!rest.startsWith(',') || rest.length === 1) {
      throw new Error(`line ${lineNo}: expected "," between labels`);
    }
    rest = rest.slice(1);
  }
  return labels;
}

/** Families by name, in the order met. Throws with the line number on the first violation. */
export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the text must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, lineNo: number): ParsedFamily => {
    if (name !== current) {
      if (closed.has(name) || families.has(name)) {
        throw new Error(`line ${lineNo}: family ${name} is not contiguous`);
      }
      if (current) closed.add(current);
      current = name;
      families.set(name, { samples: [] });
    }
    return families.get(name)!;
  };
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.startsWith('#')) {
      const help = HELP_LINE.exec(line);
      const type = TYPE_LINE.exec(line);
      if (help) {
        const family = current === help[1] ? families.get(help[1]!)! : enter(help[1]!, lineNo);
        if (family.help !== undefined) throw new Error(`line ${lineNo}: second HELP`);
        family.help = unescapeHelp(help[2]!, lineNo);
      } else if (type) {
        const family = current === type[1] ? families.get(type[1]!)! : enter(type[1]!, lineNo);
        if (family.type !== undefined) throw new Error(`line ${lineNo}: second TYPE`);
        if (family.samples.length > 0) throw new Error(`line ${lineNo}: TYPE after samples`);
        family.type = type[2];
      } else {
        throw new Error(`line ${lineNo}: unexpected comment ${JSON.stringify(line)}`);
      }
      return;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`line ${lineNo}: not a sample: ${JSON.stringify(line)}`);
    const [, name, rawLabels, rawValue] = sample;
    if (!VALUE.test(rawValue!)) throw new Error(`line ${lineNo}: bad value ${rawValue}`);
    const family = name === current ? families.get(name!)! : enter(name!, lineNo);
    // Stricter than Prometheus: our families are all typed counters and gauges.
    if (family.type !== 'counter' && family.type !== 'gauge') {
      throw new Error(`line ${lineNo}: sample of ${name} before its TYPE`);
    }
    const labels = parseLabels(rawLabels ?? '', lineNo);
    const key = JSON.stringify(Object.entries(labels).sort());
    if (family.samples.some((s) => JSON.stringify(Object.entries(s.labels).sort()) === key)) {
      throw new Error(`line ${lineNo}: duplicate sample ${line}`);
    }
    family.samples.push({
      labels,
      value: rawValue!.endsWith('Inf')
        ? rawValue!.startsWith('-')
          ? -Infinity
          : Infinity
        : Number(rawValue),
    });
  });
  return families;
}

/** The value of one sample, by labels; throws if there is none. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string>,
): number {
  const key = JSON.stringify(Object.entries(labels).sort());
  const sample = families
    .get(name)
    ?.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === key);
  if (!sample) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return sample.value;
}
