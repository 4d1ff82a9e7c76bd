/**
 * `pnpm omnihub`: admin commands against the database `pnpm dev` uses (or
 * DATABASE_URL). It prints a key's secret only right after creating it.
 */
import { parseArgs } from 'node:util';
import { loadDotEnv, openLocalDatabase, readLocalSettings } from '@omnihub/local-stack';
import { createKey, listKeys, revokeKey } from './keys.ts';
import { UsageError } from './usage-error.ts';

const USAGE = `Usage:
  pnpm omnihub keys create --tenant <slug> --source <source> --scopes <comma list>
                           [--max-rpm N] [--expires-in <duration, e.g. 90d>] [--json]
  pnpm omnihub keys list --tenant <slug> [--json]
  pnpm omnihub keys revoke <key_id>

Scopes: events:write, tasks:create, tasks:claim, tasks:complete.
Uses DATABASE_URL when set, else the embedded database in OMNIHUB_DATA_DIR (default .omnihub).`;

async function run(argv: string[]): Promise<string> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      source: { type: 'string' },
      scopes: { type: 'string' },
      'max-rpm': { type: 'string' },
      'expires-in': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [group, command, ...rest] = positionals;
  if (values.help || !group) return USAGE;
  if (group !== 'keys' || !['create', 'list', 'revoke'].includes(command ?? '')) {
    throw new UsageError(`Unknown command "${positionals.join(' ')}".\n\n${USAGE}`);
  }
  const require = (name: 'tenant' | 'source' | 'scopes') => {
    const value = values[name];
    if (!value) throw new UsageError(`keys ${command} needs --${name}.\n\n${USAGE}`);
    return value;
  };
  // Check the arguments before starting or reaching any database.
  const args =
    command === 'create'
      ? { tenant: require('tenant'), source: require('source'), scopes: require('scopes') }
      : command === 'list'
        ? { tenant: require('tenant') }
        : { keyId: rest[0] };
  if (command === 'revoke' && !rest[0])
    throw new UsageError(`keys revoke needs a key id.\n\n${USAGE}`);

  loadDotEnv();
  const database = await openLocalDatabase(readLocalSettings(process.env));
  try {
    if (command === 'create') {
      return await createKey(database.sql, {
        tenant: args.tenant!,
        source: args.source!,
        scopes: args.scopes!,
        maxRpm: values['max-rpm'],
        expiresIn: values['expires-in'],
        json: values.json,
      });
    }
    if (command === 'list') return await listKeys(database.sql, args.tenant!, values.json);
    return await revokeKey(database.sql, args.keyId!);
  } finally {
    await database.close();
  }
}

run(process.argv.slice(2)).then(
  (output) => {
    console.log(output);
    process.exit(0);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(error.exitCode);
    }
    // Database errors (a bad --expires-in in the past, a constraint) read well on their own.
    console.error(`omnihub: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
