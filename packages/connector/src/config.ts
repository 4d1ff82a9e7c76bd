import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { Identifier } from '@omnihub/contracts';
import { ConfigError } from './errors.ts';

export type Env = Record<string, string | undefined>;

export interface ConnectorConfig {
  /** The functions URL, e.g. https://<ref>.supabase.co/functions/v1 (no trailing slash). */
  baseUrl: string;
  apiKey: string;
  /** The key's id (the public part), for log lines. */
  keyId: string;
  /** The integration's source; optional for tools (the key decides it), required-and-checked for agents. */
  source: string | undefined;
  workerId: string;
}

export interface ConfigInput {
  baseUrl?: string;
  apiKey?: string;
  source?: string;
  workerId?: string;
  /** Defaults to process.env, over the `.env` file of `cwd`. */
  env?: Env;
  cwd?: string;
  /** For an agent: the source it is built for, used when OMNIHUB_SOURCE is unset and required when it is set. */
  agentSource?: string;
  agentName?: string;
}

const KEY_SHAPE = /^omni\.([a-z0-9]{1,64})\.([A-Za-z0-9_-]{32,256})$/;

/** Reads `.env` in `cwd` without touching process.env; the real environment wins. */
export function environment(cwd = process.cwd(), processEnv: Env = process.env): Env {
  const path = join(cwd, '.env');
  const fromFile = existsSync(path) ? parseEnv(readFileSync(path, 'utf8')) : {};
  return { ...fromFile, ...processEnv };
}

/**
 * Resolves and checks the connector's settings: explicit options, then the
 * environment, then `.env`. Every problem is a ConfigError whose sentence
 * says what to change; none ever repeats the API key.
 */
export function resolveConfig(input: ConfigInput = {}): ConnectorConfig {
  const env = input.env ?? environment(input.cwd);
  const pick = (option: string | undefined, name: string) =>
    (option ?? env[name])?.trim() || undefined;

  const rawUrl = pick(input.baseUrl, 'OMNIHUB_BASE_URL');
  if (!rawUrl) {
    throw new ConfigError(
      'OMNIHUB_BASE_URL is not set. Set it to your Supabase functions URL, e.g. https://<project-ref>.supabase.co/functions/v1 (with `pnpm dev`: http://127.0.0.1:54321/functions/v1).',
    );
  }
  const baseUrl = normaliseBaseUrl(rawUrl);

  const apiKey = pick(input.apiKey, 'OMNIHUB_API_KEY');
  if (!apiKey) {
    throw new ConfigError(
      'OMNIHUB_API_KEY is not set. Create a key in OmniDash → Integrations (or with `pnpm omnihub keys create`) and put it in OMNIHUB_API_KEY.',
    );
  }
  const match = KEY_SHAPE.exec(apiKey);
  if (!match) {
    throw new ConfigError(
      `OMNIHUB_API_KEY is not of the form omni.<key_id>.<secret>: ${keyProblem(apiKey)}`,
    );
  }

  const source = checkSource(
    pick(input.source, 'OMNIHUB_SOURCE'),
    input.agentSource,
    input.agentName,
  );
  const workerId =
    pick(input.workerId, 'OMNIHUB_WORKER_ID') ?? `${source ?? 'worker'}-${hostname()}`;
  if (workerId.length > 200) {
    throw new ConfigError(
      `OMNIHUB_WORKER_ID must be at most 200 characters (it has ${workerId.length}).`,
    );
  }
  return { baseUrl, apiKey, keyId: match[1]!, source, workerId };
}

function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      // Not echoed: people paste the wrong value here, sometimes the API key itself.
      `OMNIHUB_BASE_URL is not a URL (it holds ${raw.length} characters). Use e.g. https://<project-ref>.supabase.co/functions/v1.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `OMNIHUB_BASE_URL must start with http:// or https:// (got "${url.protocol}").`,
    );
  }
  // Accept the port's own URL too: people paste what they see in the docs.
  return url
    .toString()
    .replace(/\/+$/, '')
    .replace(/\/omnilink-port$/, '');
}

/** Says what is wrong with a malformed key without repeating any of it. */
function keyProblem(apiKey: string): string {
  const parts = apiKey.split('.');
  if (parts[0] !== 'omni') return 'it must start with "omni.".';
  if (parts.length !== 3) return `it has ${parts.length} dot-separated parts instead of 3.`;
  if (!/^[a-z0-9]{1,64}$/.test(parts[1]!))
    return 'the key id (between the dots) must be lowercase letters and digits.';
  return 'the secret (after the second dot) must be at least 32 characters of A-Z, a-z, 0-9, "-" and "_". Copy the whole key again.';
}

function checkSource(
  source: string | undefined,
  agentSource?: string,
  agentName?: string,
): string | undefined {
  if (agentSource && source && source !== agentSource) {
    throw new ConfigError(
      `OMNIHUB_SOURCE is "${source}", but this is the ${agentName ?? agentSource} agent (source ${agentSource}). Unset OMNIHUB_SOURCE or set it to ${agentSource}.`,
    );
  }
  const resolved = source ?? agentSource;
  if (resolved !== undefined && !Identifier.safeParse(resolved).success) {
    throw new ConfigError(
      `OMNIHUB_SOURCE "${resolved}" is not a source name: use 1-100 characters of a-z, 0-9, "_", ".", ":" or "-" (e.g. lead-gen).`,
    );
  }
  return resolved;
}
