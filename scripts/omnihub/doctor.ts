import { ConfigError, OmniHubError, type OmniHubConnector } from '@omnihub/connector';
import type { WhoAmIResponse } from '@omnihub/contracts';
import { connectorFromHere } from './here.ts';

interface Check {
  mark: '✓' | '✗' | '⚠' | '·';
  text: string;
}

const LATENCY_SAMPLES = 5;
const EXPIRY_WARNING_MS = 7 * 24 * 3600 * 1000;

/**
 * `pnpm omnihub doctor`: checks an agent's setup end to end, in the order an
 * agent meets the problems (settings, reachability, kill switch, key, source,
 * scopes, round trip), and says in plain words what to fix. Exit 1 on any ✗.
 */
export async function runDoctor(): Promise<{ output: string; code: number }> {
  const checks: Check[] = [];
  const report = () => {
    const failed = checks.some((check) => check.mark === '✗');
    const lines = checks.map((check) => `  ${check.mark} ${check.text}`);
    const verdict = failed
      ? 'Something needs fixing (✗ above).'
      : checks.some((c) => c.mark === '⚠')
        ? 'Works, with warnings (⚠ above).'
        : 'All checks passed.';
    return {
      output: [
        'OmniHub doctor: checking the agent settings in this directory (environment, then ./.env)',
        '',
        ...lines,
        '',
        verdict,
      ].join('\n'),
      code: failed ? 1 : 0,
    };
  };

  let connector: OmniHubConnector;
  try {
    connector = connectorFromHere();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    checks.push({ mark: '✗', text: `settings: ${error.message}` });
    return report();
  }
  const { config } = connector;
  checks.push({
    mark: '✓',
    text: `settings: ${config.baseUrl}, key omni.${config.keyId}.…, ${config.source ? `source ${config.source}` : 'source from the key'}, worker ${config.workerId}`,
  });

  try {
    const started = performance.now();
    const health = await connector.health();
    checks.push({
      mark: '✓',
      text: `port reachable: OmniLink Port ${health.version} answered in ${Math.round(performance.now() - started)} ms`,
    });
  } catch (error) {
    checks.push({ mark: '✗', text: reachability(error, connector.portUrl) });
    return report();
  }

  let key: WhoAmIResponse;
  try {
    key = await connector.whoami();
  } catch (error) {
    checks.push({ mark: '✗', text: keyProblem(error) });
    return report();
  }
  checks.push({
    mark: '✓',
    text: `API key valid: tenant ${key.tenant.slug} (${key.tenant.name}), integration ${key.source}; OmniLink is on for this tenant`,
  });
  if (config.source === undefined) {
    checks.push({
      mark: '✓',
      text: `source ${key.source} (from the key; OMNIHUB_SOURCE is not set)`,
    });
  } else if (key.source === config.source) {
    checks.push({ mark: '✓', text: `source ${config.source} matches the key` });
  } else {
    checks.push({
      mark: '✗',
      text: `OMNIHUB_SOURCE is ${config.source} but the key belongs to the ${key.source} integration: set OMNIHUB_SOURCE=${key.source}, or use a key of ${config.source}.`,
    });
  }

  const missing = (scope: string) => !key.scopes.includes(scope);
  checks.push({ mark: '✓', text: `scopes: ${key.scopes.join(', ')}` });
  if (missing('events:write'))
    checks.push({
      mark: '⚠',
      text: 'the key cannot send events (no events:write): simulations and handlers that report will be refused.',
    });
  if (missing('tasks:claim'))
    checks.push({
      mark: '⚠',
      text: 'the key cannot claim tasks (no tasks:claim): worker mode will be refused.',
    });
  if (!missing('tasks:claim') && missing('tasks:complete')) {
    checks.push({
      mark: '⚠',
      text: 'the key can claim tasks but not complete them (no tasks:complete): claimed tasks would run again after every lease.',
    });
  }
  const limit = key.max_rpm === null ? 'no rate limit' : `${key.max_rpm} requests per minute`;
  checks.push({
    mark: '·',
    text: `${limit}; ${key.expires_at ? `expires ${key.expires_at}` : 'never expires'}`,
  });
  if (key.expires_at && Date.parse(key.expires_at) - Date.now() < EXPIRY_WARNING_MS) {
    checks.push({
      mark: '⚠',
      text: `the key expires within 7 days (${key.expires_at}): create its successor now.`,
    });
  }

  const samples: number[] = [];
  try {
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const started = performance.now();
      await connector.health();
      samples.push(performance.now() - started);
    }
  } catch (error) {
    checks.push({
      mark: '✗',
      text: `round trip: a request failed after ${samples.length} of ${LATENCY_SAMPLES}: ${(error as Error).message}`,
    });
    return report();
  }
  samples.sort((a, b) => a - b);
  checks.push({
    mark: '✓',
    text: `round trip: median ${Math.round(samples[Math.floor(samples.length / 2)]!)} ms, max ${Math.round(samples.at(-1)!)} ms over ${LATENCY_SAMPLES} requests`,
  });
  return report();
}

function reachability(error: unknown, portUrl: string): string {
  if (error instanceof OmniHubError) {
    // /health needs no key: a 401 there comes from something in front of the port.
    if (error.status === 401) {
      return `something in front of the port refused the request (401) — Supabase's own JWT check: deploy with \`supabase functions deploy omnilink-port --no-verify-jwt\` (supabase/config.toml sets verify_jwt = false).`;
    }
    if (error.code === 'omnilink_disabled')
      return 'OmniLink is switched off for the whole deployment (OMNILINK_ENABLED=false): every request is refused until an admin switches it back on.';
    if (error.status === 404)
      return `nothing answers as the OmniLink Port at ${portUrl}: OMNIHUB_BASE_URL should be the functions URL, ending in /functions/v1.`;
    if (error.status === 0)
      return `cannot reach ${portUrl} (${error.message.replace(/^internal: /, '')}): is the stack running (pnpm dev) and OMNIHUB_BASE_URL right?`;
    return `the port answered ${error.status} (${error.message}).`;
  }
  return `the answer from ${portUrl} is not the OmniLink Port's (${(error as Error).message}).`;
}

function keyProblem(error: unknown): string {
  if (!(error instanceof OmniHubError))
    return `could not check the key: ${(error as Error).message}`;
  const said = error.body?.message ?? error.message;
  switch (error.code) {
    case 'unauthorized':
      return `the port refused the API key: ${said} Put a valid key in OMNIHUB_API_KEY.`;
    case 'omnilink_disabled':
      return `OmniLink is switched off for your tenant: ${said}`;
    case 'rate_limited':
      return `the key is rate limited right now (${said}); try again in ${error.body?.retry_after_seconds ?? 60} s.`;
    default:
      return error.status === 0 || error.status >= 500
        ? `the port could not answer the key check (${error.message}); try again, and if it persists look at the port's logs.`
        : `the port refused the key check: ${error.message}`;
  }
}
