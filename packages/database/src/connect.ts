import { reconnectBackoff } from '@omnihub/contracts';
import postgres from 'postgres';

export type Sql = postgres.Sql;

/**
 * A postgres.js client with the settings every OmniHub process uses: UTC
 * timestamps in JSON, and server notices kept out of the terminal.
 */
export function connectDatabase(
  url: string,
  options: { max?: number; applicationName?: string } = {},
): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    backoff: reconnectBackoff,
    onnotice: () => {},
    connection: { TimeZone: 'UTC', application_name: options.applicationName ?? 'omnihub' },
  });
}

/** The URL with its password replaced, for printing. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}
