import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OmniHubConnector, environment } from '@omnihub/connector';
import { UsageError } from './usage-error.ts';

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

/** parseArgs with its complaints (unknown or malformed options) turned into usage errors (exit 2). */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  command: string,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message} (see \`pnpm omnihub help\`)`);
  }
}
