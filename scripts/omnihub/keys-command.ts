import { loadDotEnv, openLocalDatabase, readLocalSettings } from '@omnihub/local-stack';
import { createKey, listKeys, revokeKey } from './keys.ts';
import { parseCommandArgs } from './here.ts';
import { UsageError } from './usage-error.ts';

export const KEYS_USAGE = `  pnpm omnihub keys create --tenant <slug> --source <source> --scopes <comma list>
                           [--max-rpm N] [--expires-in <duration, e.g. 90d>] [--json]
  pnpm omnihub keys list --tenant <slug> [--json]
  pnpm omnihub keys revoke <key_id>`;

/** `pnpm omnihub keys …`: works on the database itself (the one `pnpm dev` uses, or DATABASE_URL). */
export async function runKeys(argv: string[]): Promise<string> {
  const { positionals, values } = parseCommandArgs(
    argv,
    {
      tenant: { type: 'string' },
      source: { type: 'string' },
      scopes: { type: 'string' },
      'max-rpm': { type: 'string' },
      'expires-in': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    'keys',
  );
  const [command, keyId] = positionals;
  if (!['create', 'list', 'revoke'].includes(command ?? '')) {
    throw new UsageError(
      `Unknown command "keys ${positionals.join(' ')}".\n\nUsage:\n${KEYS_USAGE}`,
    );
  }
  const required = (name: 'tenant' | 'source' | 'scopes') => {
    const value = values[name];
    if (!value) throw new UsageError(`keys ${command} needs --${name}.\n\nUsage:\n${KEYS_USAGE}`);
    return value;
  };
  // Check the arguments before starting or reaching any database.
  const create =
    command === 'create'
      ? { tenant: required('tenant'), source: required('source'), scopes: required('scopes') }
      : null;
  const tenant = command === 'list' ? required('tenant') : null;
  if (command === 'revoke' && !keyId)
    throw new UsageError(`keys revoke needs a key id.\n\nUsage:\n${KEYS_USAGE}`);

  loadDotEnv();
  const database = await openLocalDatabase(readLocalSettings(process.env));
  try {
    if (create) {
      return await createKey(database.sql, {
        ...create,
        maxRpm: values['max-rpm'],
        expiresIn: values['expires-in'],
        json: values.json,
      });
    }
    if (tenant) return await listKeys(database.sql, tenant, values.json);
    return await revokeKey(database.sql, keyId!);
  } finally {
    await database.close();
  }
}
