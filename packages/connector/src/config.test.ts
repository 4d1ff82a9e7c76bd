import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environment, resolveConfig } from './config.ts';
import { ConfigError } from './errors.ts';

const SECRET = 'S3cretS3cretS3cretS3cretS3cretS3cretXYZ';
const KEY = `omni.abc123.${SECRET}`;
const BASE = 'http://127.0.0.1:54321/functions/v1';

function configError(
  env: Record<string, string | undefined>,
  extra: Parameters<typeof resolveConfig>[0] = {},
): string {
  try {
    resolveConfig({ env, ...extra });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain(SECRET.slice(0, 12));
    return message;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig', () => {
  it('reads the four settings and derives the key id', () => {
    const config = resolveConfig({
      env: {
        OMNIHUB_BASE_URL: BASE,
        OMNIHUB_API_KEY: KEY,
        OMNIHUB_SOURCE: 'lead-gen',
        OMNIHUB_WORKER_ID: 'lead-gen-dev-01',
      },
    });
    expect(config).toEqual({
      baseUrl: BASE,
      apiKey: KEY,
      keyId: 'abc123',
      source: 'lead-gen',
      workerId: 'lead-gen-dev-01',
    });
  });

  it('prefers explicit options to the environment', () => {
    const config = resolveConfig({
      env: { OMNIHUB_BASE_URL: 'http://elsewhere', OMNIHUB_API_KEY: KEY, OMNIHUB_SOURCE: 'x' },
      baseUrl: BASE,
      source: 'apex-sales',
    });
    expect(config).toMatchObject({ baseUrl: BASE, source: 'apex-sales' });
  });

  it('accepts the port URL or a trailing slash as the base URL', () => {
    for (const url of [`${BASE}/`, `${BASE}/omnilink-port`, `${BASE}/omnilink-port/`]) {
      expect(
        resolveConfig({ env: { OMNIHUB_BASE_URL: url, OMNIHUB_API_KEY: KEY, OMNIHUB_SOURCE: 's' } })
          .baseUrl,
      ).toBe(BASE);
    }
  });

  it('defaults the worker id to the source and the host name, and the source to the agent’s', () => {
    const config = resolveConfig({
      env: { OMNIHUB_BASE_URL: BASE, OMNIHUB_API_KEY: KEY },
      agentSource: 'apex-sales',
    });
    expect(config.source).toBe('apex-sales');
    expect(config.workerId).toMatch(/^apex-sales-.+/);
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    [
      'a missing URL',
      { OMNIHUB_API_KEY: KEY, OMNIHUB_SOURCE: 's' },
      /OMNIHUB_BASE_URL is not set.*functions\/v1/,
    ],
    [
      'a URL that is not one',
      { OMNIHUB_BASE_URL: 'localhost 54321', OMNIHUB_API_KEY: KEY, OMNIHUB_SOURCE: 's' },
      /OMNIHUB_BASE_URL is not a URL/,
    ],
    [
      'a non-http URL',
      { OMNIHUB_BASE_URL: 'ftp://host/x', OMNIHUB_API_KEY: KEY, OMNIHUB_SOURCE: 's' },
      /must start with http/,
    ],
    [
      'a missing key',
      { OMNIHUB_BASE_URL: BASE, OMNIHUB_SOURCE: 's' },
      /OMNIHUB_API_KEY is not set/,
    ],
    [
      'a key without the omni prefix',
      { OMNIHUB_BASE_URL: BASE, OMNIHUB_API_KEY: SECRET, OMNIHUB_SOURCE: 's' },
      /omni\.<key_id>\.<secret>: it must start with "omni\."/,
    ],
    [
      'a key with a short secret',
      { OMNIHUB_BASE_URL: BASE, OMNIHUB_API_KEY: 'omni.abc123.S3cretS3cret', OMNIHUB_SOURCE: 's' },
      /the secret .* at least 32/,
    ],
    [
      'a key with a capitalised id',
      { OMNIHUB_BASE_URL: BASE, OMNIHUB_API_KEY: `omni.ABC.${SECRET}`, OMNIHUB_SOURCE: 's' },
      /key id .* lowercase/,
    ],
    [
      'a key cut in two parts',
      { OMNIHUB_BASE_URL: BASE, OMNIHUB_API_KEY: `omni.${SECRET}`, OMNIHUB_SOURCE: 's' },
      /2 dot-separated parts/,
    ],
    [
      'a source that is not a name',
      { OMNIHUB_BASE_URL: BASE, OMNIHUB_API_KEY: KEY, OMNIHUB_SOURCE: 'Lead Gen' },
      /is not a source name/,
    ],
  ])(
    'refuses %s with a sentence that says what to fix, never the secret',
    (_name, env, message) => {
      expect(configError(env)).toMatch(message);
    },
  );

  it('leaves the source unset when neither the settings nor an agent give one (the key decides)', () => {
    const config = resolveConfig({ env: { OMNIHUB_BASE_URL: BASE, OMNIHUB_API_KEY: KEY } });
    expect(config.source).toBeUndefined();
    expect(config.workerId).toMatch(/^worker-.+/);
  });

  it('never repeats a value put in OMNIHUB_BASE_URL by mistake (it may be the key itself)', () => {
    const message = configError({
      OMNIHUB_BASE_URL: KEY,
      OMNIHUB_API_KEY: KEY,
      OMNIHUB_SOURCE: 's',
    });
    expect(message).toMatch(/OMNIHUB_BASE_URL is not a URL \(it holds \d+ characters\)/);
    expect(message).not.toContain('omni.');
  });

  it('refuses an agent started with another agent’s source', () => {
    const message = configError(
      { OMNIHUB_BASE_URL: BASE, OMNIHUB_API_KEY: KEY, OMNIHUB_SOURCE: 'apex-sales' },
      { agentSource: 'lead-gen', agentName: 'Lead-Gen' },
    );
    expect(message).toBe(
      'OMNIHUB_SOURCE is "apex-sales", but this is the Lead-Gen agent (source lead-gen). Unset OMNIHUB_SOURCE or set it to lead-gen.',
    );
  });
});

describe('environment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connector-env-'));
    await writeFile(
      join(dir, '.env'),
      `OMNIHUB_BASE_URL=${BASE}\nOMNIHUB_SOURCE=from-file\n# a comment\n`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads .env from the working directory, and the real environment wins', () => {
    const env = environment(dir, { OMNIHUB_SOURCE: 'from-process' });
    expect(env.OMNIHUB_BASE_URL).toBe(BASE);
    expect(env.OMNIHUB_SOURCE).toBe('from-process');
  });

  it('is just the process environment without a .env file', () => {
    expect(environment(join(dir, 'nowhere'), { A: '1' })).toEqual({ A: '1' });
  });
});
