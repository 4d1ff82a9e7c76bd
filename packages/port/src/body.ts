import { MAX_BODY_BYTES } from '@omnihub/contracts';
import { PortError } from './errors.ts';

/**
 * Reads a JSON request body, stopping at 1 MiB. Problems are returned, not
 * thrown, because the contract reports them only after the key was checked.
 * An empty body reads as `{}` so that missing fields get named one by one.
 * The content type is not enforced: the body must simply be JSON.
 */
export async function readJsonBody(
  request: Request,
  limit = MAX_BODY_BYTES,
): Promise<{ value: unknown } | { problem: PortError; unread?: true }> {
  // The rest of the body is left unread: `unread` tells the caller to close the connection.
  const tooLarge = () => ({
    problem: new PortError('payload_too_large', `The request body is over ${limit} bytes.`),
    unread: true as const,
  });
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) return tooLarge();

  let bytes: Uint8Array;
  if (Number.isFinite(declared) && request.headers.has('content-length')) {
    // A declared length within the limit bounds the body (HTTP framing stops
    // there), so it can be read whole: on Node this skips building a web
    // stream for every request, a third of a small request's CPU in the port.
    // The bytes are still what counts (a Request made in code may differ).
    bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > limit) return tooLarge();
  } else if (!request.body) {
    bytes = new Uint8Array();
  } else {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        return tooLarge();
      }
      chunks.push(value);
    }
    bytes = concat(chunks, size);
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { problem: invalidJson('The request body is not valid UTF-8.') };
  }
  if (text.trim() === '') return { value: {} };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return {
      problem: invalidJson(`The request body is not valid JSON: ${(error as Error).message}`),
    };
  }
}

function invalidJson(message: string): PortError {
  return new PortError('invalid_request', message, { issues: [{ path: '', message }] });
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
