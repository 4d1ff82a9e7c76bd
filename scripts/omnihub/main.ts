/**
 * `pnpm omnihub`: admin and operator commands. `keys` works on the database
 * (the one `pnpm dev` uses, or DATABASE_URL) and prints a secret only right
 * after creating it; `doctor`, `status` and `tasks` talk to the port with the
 * agent settings of this directory (OMNIHUB_* from the environment or ./.env).
 */
import { ConfigError, OmniHubError } from '@omnihub/connector';
import { ALL_SCOPES } from '@omnihub/contracts';
import { runDoctor } from './doctor.ts';
import { KEYS_USAGE, runKeys } from './keys-command.ts';
import { runStatus } from './status.ts';
import { TASKS_USAGE, runTasks } from './tasks.ts';
import { UsageError } from './usage-error.ts';

const USAGE = `Usage:
${KEYS_USAGE}
  pnpm omnihub doctor          check this directory's agent settings end to end
  pnpm omnihub status [--json] task counts and live workers for the key's target
${TASKS_USAGE}

Scopes: ${ALL_SCOPES.join(', ')}.
keys: uses DATABASE_URL when set, else the embedded database in OMNIHUB_DATA_DIR (default .omnihub).
doctor, status, tasks: use OMNIHUB_BASE_URL, OMNIHUB_API_KEY, OMNIHUB_SOURCE, OMNIHUB_WORKER_ID.`;

async function run(argv: string[]): Promise<{ output: string; code: number }> {
  const [group, ...rest] = argv;
  switch (group) {
    case undefined:
    case 'help':
    case '--help':
      return { output: USAGE, code: 0 };
    case 'keys':
      return { output: await runKeys(rest), code: 0 };
    case 'doctor':
      return runDoctor();
    case 'status':
      return { output: await runStatus(rest), code: 0 };
    case 'tasks':
      return { output: await runTasks(rest), code: 0 };
    default:
      throw new UsageError(`Unknown command "${argv.join(' ')}".\n\n${USAGE}`);
  }
}

run(process.argv.slice(2)).then(
  ({ output, code }) => {
    console.log(output);
    process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(error.exitCode);
    }
    if (error instanceof ConfigError) {
      console.error(`${error.message} (\`pnpm omnihub doctor\` checks the whole setup)`);
      process.exit(1);
    }
    // A port refusal or a database error reads well on its own.
    const message =
      error instanceof OmniHubError
        ? error.message
        : error instanceof Error
          ? error.message
          : String(error);
    console.error(`omnihub: ${message}`);
    process.exit(1);
  },
);
