/** Random hex (crypto.randomUUID needs a secure context; this does not). */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (byte) =>
    byte.toString(16).padStart(2, '0'),
  ).join('');
}

/** An idempotency key for one create request, kept while the same request is re-sent. */
export function newRequestKey(): string {
  return `omnidash-${randomHex(16)}`;
}
