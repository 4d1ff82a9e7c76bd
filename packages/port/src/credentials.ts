import { createHash } from 'node:crypto';
import { PortError } from './errors.ts';

/** A presented API key, reduced to what the database compares: the key id and the secret's SHA-256. */
export interface ApiKeyCredential {
  keyId: string;
  secretSha256: string;
}

const API_KEY_PATTERN = /^omni\.([a-z0-9]{1,64})\.([A-Za-z0-9_-]{32,256})$/;

const BEARER_HINT = 'Send the header "Authorization: Bearer omni.<key_id>.<secret>".';

/**
 * Reads `Authorization: Bearer omni.<key_id>.<secret>`. A malformed header is
 * refused here without touching the database; the secret itself goes no
 * further than this function: only its hash is passed on.
 */
export async function credentialFromHeader(header: string | undefined): Promise<ApiKeyCredential> {
  if (!header) {
    throw new PortError('unauthorized', `Missing API key. ${BEARER_HINT}`);
  }
  const [scheme, token, ...rest] = header.trim().split(/\s+/);
  if (scheme?.toLowerCase() !== 'bearer' || !token || rest.length > 0) {
    throw new PortError(
      'unauthorized',
      `The Authorization header is not a Bearer token. ${BEARER_HINT}`,
    );
  }
  const match = API_KEY_PATTERN.exec(token);
  if (!match) {
    throw new PortError(
      'unauthorized',
      'The API key is malformed: expected omni.<key_id>.<secret> with a lowercase key id and a secret of at least 32 characters.',
    );
  }
  return { keyId: match[1]!, secretSha256: sha256Hex(match[2]!) };
}

/**
 * node:crypto (in Node and in Deno alike) rather than WebCrypto: hashing a
 * 43-character secret synchronously costs microseconds, while
 * crypto.subtle's promise round trip through a worker thread was ~5% of the
 * port's CPU under load.
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
