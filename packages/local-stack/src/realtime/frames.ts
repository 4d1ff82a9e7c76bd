/** One Phoenix channel message. */
export interface Message {
  join_ref: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, unknown>;
}

export type Vsn = '1.0.0' | '2.0.0';

/**
 * Phoenix's two JSON framings, both spoken by Supabase Realtime: vsn 1.0.0
 * sends objects, vsn 2.0.0 arrays `[join_ref, ref, topic, event, payload]`.
 * (2.0.0 also has binary broadcast frames, which postgres_changes never uses.)
 */
export function decodeFrame(text: string, vsn: Vsn): Message {
  const parsed: unknown = JSON.parse(text);
  let fields: unknown[];
  if (vsn === '2.0.0') {
    if (!Array.isArray(parsed) || parsed.length !== 5)
      throw new Error('a vsn 2.0.0 frame is a 5-element array');
    fields = parsed;
  } else {
    const message = asObject(parsed);
    fields = [
      message.join_ref ?? null,
      message.ref ?? null,
      message.topic,
      message.event,
      message.payload,
    ];
  }
  const [join_ref, ref, topic, event, payload] = fields;
  if (typeof topic !== 'string' || typeof event !== 'string')
    throw new Error('a frame needs a string topic and event');
  return { join_ref: refOf(join_ref), ref: refOf(ref), topic, event, payload: asObject(payload) };
}

/** Refs are opaque strings to Phoenix; anything else is treated as absent. */
function refOf(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function encodeFrame(message: Message, vsn: Vsn): string {
  return vsn === '2.0.0'
    ? JSON.stringify([message.join_ref, message.ref, message.topic, message.event, message.payload])
    : JSON.stringify(message);
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
