/**
 * `pnpm dev`: the whole OmniHub stack on this machine, with only Node.
 * Starts Postgres (embedded, or DATABASE_URL), applies the platform shim,
 * the migrations and the demo seed, serves the Supabase endpoints OmniHub
 * uses (auth, rest, realtime, the OmniLink Port as a function) and the built
 * OmniDash, prints how to use them, and runs until Ctrl-C. `--reset` starts
 * from an empty data dir; `--agents` also runs both agents in hybrid mode.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, redactDatabaseUrl } from '@omnihub/database';
import {
  loadDotEnv,
  readLocalSettings,
  startLocalStack,
  type LocalStack,
} from '@omnihub/local-stack';
import { parseBooleanSetting } from '@omnihub/port';
import { buildDashboard, dashboardBuildState, DASHBOARD_APP_DIR } from './dashboard-build.ts';
import { startAgents } from './dev-agents.ts';

const USAGE = `Usage: pnpm dev [--reset] [--agents] [--skip-build]

Starts Postgres and the Supabase endpoints OmniHub uses (auth, rest, realtime,
functions/omnilink-port) at http://127.0.0.1:$OMNIHUB_LOCAL_PORT (default 54321).

  --reset    delete the local data (OMNIHUB_DATA_DIR, default .omnihub) and start empty
  --agents   also run the Lead-Gen and APEX-Sales agents in hybrid mode
  --skip-build  serve OmniDash's build as it is (by default a missing or outdated
             build is rebuilt in the background)
  --help     show this

Settings (environment or .env): OMNIHUB_LOCAL_PORT, OMNIHUB_DATA_DIR, DATABASE_URL,
OMNILINK_ENABLED, OMNIHUB_ADMIN_PASSWORD, OMNIHUB_DASHBOARD_DIR.`;

/** Vite's output for OmniDash, served at `/` (OMNIHUB_DASHBOARD_DIR moves it, e.g. for tests). */
const DASHBOARD_DIR = resolve(
  REPO_ROOT,
  process.env.OMNIHUB_DASHBOARD_DIR?.trim() || join(DASHBOARD_APP_DIR, 'dist'),
);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reset: { type: 'boolean', default: false },
      agents: { type: 'boolean', default: false },
      'skip-build': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  loadDotEnv();
  const settings = readLocalSettings(process.env);

  if (values.reset) {
    if (settings.databaseUrl) {
      throw new Error(
        '--reset only clears the embedded database; DATABASE_URL points elsewhere, so reset that database yourself.',
      );
    }
    await rm(settings.dataDir, { recursive: true, force: true });
    console.log(`Cleared ${settings.dataDir}.`);
  }

  const chosenAdminPassword = process.env.OMNIHUB_ADMIN_PASSWORD?.trim() || undefined;
  console.log(settings.databaseUrl ? 'Connecting to DATABASE_URL…' : 'Starting Postgres…');
  const stack = await startLocalStack({
    dataDir: settings.dataDir,
    port: settings.port,
    databaseUrl: settings.databaseUrl,
    env: process.env,
    adminPassword: chosenAdminPassword,
    dashboardDir: DASHBOARD_DIR,
  });
  const build = values['skip-build'] ? 'skipped' : dashboardBuildState(DASHBOARD_DIR);
  // Before the banner says "Press Ctrl-C": a Ctrl-C that beat the handler
  // would kill the process by default and leave Postgres running.
  let building: AbortController | null = null;
  let agents: ReturnType<typeof startAgents> | null = null;
  stopOnSignals(async () => {
    building?.abort();
    await agents?.stop();
    await stack.stop();
  });
  printBanner(stack, settings.dataDir, chosenAdminPassword !== undefined, build);
  building = build === 'missing' || build === 'stale' ? rebuildDashboard(stack) : null;
  agents = values.agents ? startAgents(stack) : null;
}

/** Builds OmniDash while the stack already serves everything else; `/` serves it once done. */
function rebuildDashboard(stack: LocalStack): AbortController {
  const controller = new AbortController();
  console.log('Building OmniDash…');
  buildDashboard(DASHBOARD_DIR, controller.signal).then(
    () => console.log(`OmniDash is ready: ${stack.apiUrl}/`),
    (error: Error) => {
      if (!controller.signal.aborted)
        console.error(`OmniDash could not be built. ${error.message}`);
    },
  );
  return controller;
}

const DASHBOARD_NOTE = {
  fresh: '',
  missing: '  (building…)',
  stale: '  (rebuilding…)',
  skipped: '',
} as const;

function printBanner(
  stack: LocalStack,
  dataDir: string,
  passwordChosen: boolean,
  build: keyof typeof DASHBOARD_NOTE,
): void {
  const dashboardNote =
    build === 'skipped' && !existsSync(join(DASHBOARD_DIR, 'index.html'))
      ? '  (not built: run pnpm build)'
      : DASHBOARD_NOTE[build];
  const keyLines = stack.demoKeys
    .map((key) => `    ${key.source.padEnd(12)}${key.apiKey}`)
    .join('\n');
  const [example] = stack.demoKeys;
  const enabled = parseBooleanSetting('OMNILINK_ENABLED', process.env.OMNILINK_ENABLED, true);
  console.log(`
OmniHub local stack is ready.

  OmniDash        ${stack.apiUrl}/${dashboardNote}
  API URL         ${stack.apiUrl}          (VITE_SUPABASE_URL)
  anon key        ${stack.anonKey}
  service_role    ${stack.serviceRoleKey}
                  (bypasses RLS: only for trusted servers)
  OmniDash login  ${stack.operator.email}  password ${passwordChosen ? '(your OMNIHUB_ADMIN_PASSWORD)' : stack.operator.password}
  Realtime        ${stack.realtime.streaming ? `${stack.apiUrl.replace('http', 'ws')}/realtime/v1/websocket` : 'off: the database cannot replicate logically (wal_level)'}

  OmniLink Port   ${stack.portUrl}
  OpenAPI         ${stack.portUrl}/openapi.json
  Database        ${stack.embedded ? stack.databaseUrl : redactDatabaseUrl(stack.databaseUrl)}
  Data            ${stack.embedded ? dataDir : 'in DATABASE_URL'}
  Long polls      ${stack.notificationsWork ? 'woken by LISTEN/NOTIFY' : 'polling every 250 ms (notifications do not arrive)'}
${enabled ? '' : '\n  OMNILINK_ENABLED=false: every port request is refused with 503.\n'}
  Demo API keys (tenant "demo", all scopes):
${keyLines}

  Agents use:  OMNIHUB_BASE_URL=${stack.functionsUrl}
  Try it:      curl -s -X POST ${stack.portUrl}/events \\
                 -H "Authorization: Bearer ${example?.apiKey}" -H "content-type: application/json" \\
                 -d '{"type":"lead_ingested","idempotency_key":"hello-1","data":{"lead_id":"1"}}'

Press Ctrl-C to stop.`);
}

function stopOnSignals(stopAll: () => Promise<void>): void {
  // Stops the whole stack (Postgres last) and exits 0; a second signal forces it.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      console.log('Forcing exit.');
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await stopAll();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`pnpm dev failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
