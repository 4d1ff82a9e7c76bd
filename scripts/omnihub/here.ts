import { OmniHubConnector, environment } from '@omnihub/connector';

/**
 * A connector with the agent settings of this directory (environment over
 * ./.env), exactly as an agent here would have, but failing fast: these
 * commands are interactive. Throws ConfigError for unusable settings.
 */
export function connectorFromHere(): OmniHubConnector {
  return new OmniHubConnector({
    env: environment(),
    retry: { maxElapsedMs: 0 },
    requestTimeoutMs: 10_000,
    log: () => {},
  });
}
