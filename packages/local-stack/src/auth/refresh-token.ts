import { createHash, randomBytes } from 'node:crypto';

/**
 * A new refresh token: 256 random bits, base64url. Far more than GoTrue's
 * 12-character tokens; the client treats it as an opaque string either way.
 */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the database keeps of a refresh token: its SHA-256, hex. A fast hash
 * is enough (no salt, no bcrypt) because the token is 256 random bits, so
 * there is nothing to guess; a copy of the table lets nobody refresh.
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
