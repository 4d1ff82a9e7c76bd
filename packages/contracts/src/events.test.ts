import { describe, expect, it } from 'vitest';
import { PAYLOAD_TOO_LARGE } from './common.ts';
import {
  EmitEventBatchRequestBody,
  EmitEventBatchResponse,
  EmitEventResponse,
  TelemetryEvent,
  isEventBatch,
} from './events.ts';
import { MAX_EVENTS_PER_BATCH, MAX_JSON_FIELD_BYTES, jsonByteLength } from './limits.ts';

const event = (extra: Record<string, unknown> = {}) => ({
  type: 'lead_ingested',
  idempotency_key: 'evt-1',
  ...extra,
});

/** `data` whose compact JSON is exactly `bytes` bytes, built from `fill`. */
function dataOfBytes(bytes: number, fill = 'a'): Record<string, string> {
  const overhead = jsonByteLength({ x: '' });
  const fillBytes = new TextEncoder().encode(fill).byteLength;
  if ((bytes - overhead) % fillBytes !== 0) throw new Error('uneven fill');
  const data = { x: fill.repeat((bytes - overhead) / fillBytes) };
  expect(jsonByteLength(data)).toBe(bytes);
  return data;
}

describe('TelemetryEvent', () => {
  it('accepts the minimal event and a full one', () => {
    expect(TelemetryEvent.parse(event())).toEqual(event());
    const full = event({
      occurred_at: '2026-11-21T10:00:00Z',
      source: 'lead-gen',
      data: { lead_id: '42', score: 0.82, tags: ['a'] },
    });
    expect(TelemetryEvent.parse(full)).toEqual(full);
  });

  it('refuses unknown keys', () => {
    const result = TelemetryEvent.safeParse(event({ extra: 1 }));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['extra'] });
  });

  it.each([
    ['type', { type: undefined }],
    ['idempotency_key', { idempotency_key: undefined }],
  ])('requires %s', (field, extra) => {
    const result = TelemetryEvent.safeParse(event(extra));
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual([field]);
  });

  it('requires occurred_at to carry a time zone', () => {
    expect(TelemetryEvent.safeParse(event({ occurred_at: '2026-11-21T10:00:00' })).success).toBe(
      false,
    );
    expect(
      TelemetryEvent.safeParse(event({ occurred_at: '2026-11-21T10:00:00+01:00' })).success,
    ).toBe(true);
  });

  it('refuses a source that is not an identifier', () => {
    expect(TelemetryEvent.safeParse(event({ source: 'Lead Gen' })).success).toBe(false);
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', 'hello'],
    ['a number', 7],
    ['null', null],
  ])('refuses data that is %s', (_label, data) => {
    const result = TelemetryEvent.safeParse(event({ data }));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['data']);
  });

  it('accepts data of exactly 16384 serialized bytes', () => {
    expect(
      TelemetryEvent.safeParse(event({ data: dataOfBytes(MAX_JSON_FIELD_BYTES) })).success,
    ).toBe(true);
  });

  it('refuses data of 16385 bytes with an issue flagged payload_too_large', () => {
    const result = TelemetryEvent.safeParse(event({ data: dataOfBytes(MAX_JSON_FIELD_BYTES + 1) }));
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(issue?.path).toEqual(['data']);
    expect(issue?.code === 'custom' ? issue.params?.[PAYLOAD_TOO_LARGE] : undefined).toBe(true);
  });

  it('counts multi-byte characters as bytes', () => {
    // 2 bytes per 'é': 16384 bytes pass, 16386 do not, although both are far under 16384 characters.
    expect(
      TelemetryEvent.safeParse(event({ data: dataOfBytes(MAX_JSON_FIELD_BYTES, 'é') })).success,
    ).toBe(true);
    const over = dataOfBytes(MAX_JSON_FIELD_BYTES + 2, 'é');
    expect(JSON.stringify(over).length).toBeLessThan(MAX_JSON_FIELD_BYTES);
    expect(TelemetryEvent.safeParse(event({ data: over })).success).toBe(false);
  });
});

describe('EmitEventBatchRequestBody', () => {
  it('accepts 1 to 500 events', () => {
    expect(EmitEventBatchRequestBody.safeParse({ events: [event()] }).success).toBe(true);
    const most = Array.from({ length: MAX_EVENTS_PER_BATCH }, (_, i) =>
      event({ idempotency_key: `k${i}` }),
    );
    expect(EmitEventBatchRequestBody.safeParse({ events: most }).success).toBe(true);
  });

  it('refuses an empty batch and one of 501 events', () => {
    expect(EmitEventBatchRequestBody.safeParse({ events: [] }).error?.issues[0]?.message).toBe(
      'must hold at least one event',
    );
    const tooMany = Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, () => event());
    expect(EmitEventBatchRequestBody.safeParse({ events: tooMany }).error?.issues[0]?.message).toBe(
      'must hold at most 500 events',
    );
  });

  it('points at the bad event by index', () => {
    const result = EmitEventBatchRequestBody.safeParse({
      events: [event(), event(), event(), event({ type: 'X' })],
    });
    expect(result.error?.issues[0]?.path).toEqual(['events', 3, 'type']);
  });

  it('refuses unknown keys next to events', () => {
    expect(EmitEventBatchRequestBody.safeParse({ events: [event()], extra: true }).success).toBe(
      false,
    );
  });
});

describe('isEventBatch', () => {
  it.each([
    ['a batch', { events: [] }, true],
    ['a batch holding anything under events', { events: 'nope' }, true],
    ['a single event', event(), false],
    ['an empty object', {}, false],
    ['an array of events', [event()], false],
    ['an array with an events property', Object.assign([], { events: [] }), false],
    ['null', null, false],
    ['undefined', undefined, false],
    ['a string', 'events', false],
  ])('tells %s → %s', (_label, body, expected) => {
    expect(isEventBatch(body)).toBe(expected);
  });
});

describe('responses', () => {
  it('parses a single write result and refuses an unknown status', () => {
    expect(EmitEventResponse.parse({ status: 'created', id: 'e1' })).toEqual({
      status: 'created',
      id: 'e1',
    });
    expect(EmitEventResponse.safeParse({ status: 'stored', id: 'e1' }).success).toBe(false);
  });

  it('parses a batch result and refuses negative counts', () => {
    const body = {
      created: 1,
      duplicates: 1,
      results: [
        { idempotency_key: 'a', status: 'created', id: '1' },
        { idempotency_key: 'b', status: 'duplicate', id: '0' },
      ],
    };
    expect(EmitEventBatchResponse.parse(body)).toEqual(body);
    expect(EmitEventBatchResponse.safeParse({ ...body, created: -1 }).success).toBe(false);
  });
});
