import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialFromHeader, sha256Hex } from './credentials.ts';
import { PortError } from './errors.ts';

const SECRET = 'Abcdefghijklmnopqrstuvwxyz012345_-XYZ'; // 37 characters of the secret alphabet
const nodeSha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

async function refusal(header: string | undefined): Promise<PortError> {
  const error = await credentialFromHeader(header).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(PortError);
  return error as PortError;
}

describe('credentialFromHeader', () => {
  it('returns the key id and the SHA-256 of the secret for a good key', async () => {
    const credential = await credentialFromHeader(`Bearer omni.k1a2.${SECRET}`);
    expect(credential).toEqual({ keyId: 'k1a2', secretSha256: nodeSha256(SECRET) });
  });

  it('never carries the plaintext secret', async () => {
    const credential = await credentialFromHeader(`Bearer omni.k1.${SECRET}`);
    const serialized = JSON.stringify(credential);
    expect(serialized).not.toContain(SECRET);
    expect(serialized).not.toContain(SECRET.slice(0, 16));
    expect(Object.keys(credential).sort()).toEqual(['keyId', 'secretSha256']);
  });

  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])(
    'accepts the scheme spelled %s',
    async (scheme) => {
      await expect(credentialFromHeader(`${scheme} omni.k1.${SECRET}`)).resolves.toMatchObject({
        keyId: 'k1',
      });
    },
  );

  it('tolerates surrounding and repeated whitespace', async () => {
    await expect(credentialFromHeader(`  Bearer \t omni.k1.${SECRET}  `)).resolves.toMatchObject({
      keyId: 'k1',
    });
  });

  it.each([
    ['a 32-character secret', `omni.k.${'a'.repeat(32)}`],
    ['a 256-character secret', `omni.k.${'a'.repeat(256)}`],
    ['a 64-character key id', `omni.${'a'.repeat(64)}.${SECRET}`],
  ])('accepts %s', async (_label, token) => {
    await expect(credentialFromHeader(`Bearer ${token}`)).resolves.toBeDefined();
  });

  it.each([
    ['no header', undefined, /Missing API key/],
    ['an empty header', '', /Missing API key/],
    ['only whitespace', '   ', /not a Bearer token/],
    ['the Basic scheme', `Basic omni.k1.${SECRET}`, /not a Bearer token/],
    ['a bare key without a scheme', `omni.k1.${SECRET}`, /not a Bearer token/],
    ['the scheme without a token', 'Bearer', /not a Bearer token/],
    ['an extra token', `Bearer omni.k1.${SECRET} extra`, /not a Bearer token/],
    ['an uppercase key id', `Bearer omni.K1.${SECRET}`, /malformed/],
    ['a key id with a dash', `Bearer omni.k-1.${SECRET}`, /malformed/],
    ['a 65-character key id', `Bearer omni.${'a'.repeat(65)}.${SECRET}`, /malformed/],
    ['a 31-character secret', `Bearer omni.k1.${'a'.repeat(31)}`, /malformed/],
    ['a 257-character secret', `Bearer omni.k1.${'a'.repeat(257)}`, /malformed/],
    ['a secret with a dot', `Bearer omni.k1.${SECRET}.more`, /malformed/],
    ['a missing secret', 'Bearer omni.k1', /malformed/],
    ['a missing key id', `Bearer omni..${SECRET}`, /malformed/],
    ['a missing prefix', `Bearer k1.${SECRET}`, /malformed/],
    ['the wrong prefix', `Bearer omnx.k1.${SECRET}`, /malformed/],
    ['an uppercase prefix', `Bearer OMNI.k1.${SECRET}`, /malformed/],
  ])('refuses %s as unauthorized', async (_label, header, message) => {
    const error = await refusal(header);
    expect(error.code).toBe('unauthorized');
    expect(error.status).toBe(401);
    expect(error.message).toMatch(message);
  });

  it('does not echo the secret in its refusal', async () => {
    const error = await refusal(`Bearer omni.K1.${SECRET}`);
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(error.toBody())).not.toContain(SECRET);
  });
});

describe('sha256Hex', () => {
  // FIPS 180-2's test vectors, and UTF-8 input (hashlib's digest of the same bytes).
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['é€😀', 'df9226927fd572c1ee66eec85de1bb139497614899f36e4e90474cb71f6ef9d0'],
  ])('hashes %j to the known digest', (text, digest) => {
    expect(sha256Hex(text)).toBe(digest);
  });

  it('gives 64 lowercase hex digits', () => {
    expect(sha256Hex('x')).toMatch(/^[0-9a-f]{64}$/);
  });
});
