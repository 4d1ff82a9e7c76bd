import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../test/prometheus-text.ts';
import { escapeLabelValue, formatMetrics, formatValue } from './metrics-format.ts';

describe('formatMetrics', () => {
  it('writes HELP, TYPE and one line per sample, ending in a newline', () => {
    const text = formatMetrics([
      {
        name: 'omnihub_tasks',
        help: 'Tasks now.',
        type: 'gauge',
        samples: [
          { labels: { target: 'a', status: 'queued' }, value: 3 },
          { labels: { target: 'a', status: 'failed' }, value: 0 },
        ],
      },
      { name: 'omnihub_events_total', help: 'Events.', type: 'counter', samples: [] },
    ]);
    expect(text).toBe(
      [
        '# HELP omnihub_tasks Tasks now.',
        '# TYPE omnihub_tasks gauge',
        'omnihub_tasks{target="a",status="queued"} 3',
        'omnihub_tasks{target="a",status="failed"} 0',
        '# HELP omnihub_events_total Events.',
        '# TYPE omnihub_events_total counter',
        '',
      ].join('\n'),
    );
    expect([...parsePrometheusText(text).keys()]).toEqual([
      'omnihub_tasks',
      'omnihub_events_total',
    ]);
  });

  it('escapes backslash, double quote and newline in label values, and reads back the same', () => {
    const nasty = 'a\\b"c\nd \\n "';
    expect(escapeLabelValue(nasty)).toBe('a\\\\b\\"c\\nd \\\\n \\"');
    const text = formatMetrics([
      {
        name: 'x',
        help: 'Help with a \\ backslash,\na newline and "quotes".',
        type: 'counter',
        samples: [{ labels: { type: nasty }, value: 1 }],
      },
    ]);
    expect(text.split('\n')).toHaveLength(4);
    const family = parsePrometheusText(text).get('x')!;
    expect(family.help).toBe('Help with a \\ backslash,\na newline and "quotes".');
    expect(family.samples).toEqual([{ labels: { type: nasty }, value: 1 }]);
  });

  it('spells out NaN and infinities as Prometheus reads them', () => {
    expect([NaN, Infinity, -Infinity, 0, 1.5, 12345678901].map(formatValue)).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      '0',
      '1.5',
      '12345678901',
    ]);
  });

  it('refuses names Prometheus would reject the whole scrape for', () => {
    const family = { help: 'h', type: 'gauge' as const, samples: [] };
    expect(() => formatMetrics([{ ...family, name: 'bad-name' }])).toThrow(/metric name/);
    expect(() =>
      formatMetrics([
        { ...family, name: 'ok', samples: [{ labels: { 'bad-label': 'v' }, value: 1 }] },
      ]),
    ).toThrow(/label name/);
    expect(() =>
      formatMetrics([
        { ...family, name: 'ok', samples: [{ labels: { __name__: 'v' }, value: 1 }] },
      ]),
    ).toThrow(/label name/);
    expect(() =>
      formatMetrics([
        { ...family, name: 'ok' },
        { ...family, name: 'ok' },
      ]),
    ).toThrow(/twice/);
  });
});

describe('parsePrometheusText (the tests’ strict reader)', () => {
  it.each([
    ['no final newline', '# TYPE a gauge\na 1'],
    ['an unescaped quote', '# TYPE a gauge\na{l="x"y"} 1\n'],
    ['a bad escape', '# TYPE a gauge\na{l="x\\t"} 1\n'],
    ['a sample before its TYPE', 'a 1\n'],
    ['a split family', '# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na 2\n'],
    ['a duplicate sample', '# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n'],
    ['a bad value', '# TYPE a gauge\na one\n'],
    ['a trailing comma', '# TYPE a gauge\na{l="1",} 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
