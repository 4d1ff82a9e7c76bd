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
  if (vsn === '2.0.0') {
    if (!Array.isArray(parsed) || parsed.length !== 5)
      throw new Error('a vsn 2.0.0 frame is a 5-element array');
    const [join_ref, ref, topic, event, payload] = parsed as [
      string | null,
      string | null,
      string,
      string,
      unknown,
    ];
    return { join_ref, ref, topic, event, payload: asObject(payload) };
  }
  const message = asObject(parsed);
  return {
    join_ref: (message.join_ref as string | null | undefined) ?? null,
    ref: (message.ref as string | null | undefined) ?? null,
    topic: String(message.topic),
    event: String(message.event),
    payload: asObject(message.payload),
  };
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
