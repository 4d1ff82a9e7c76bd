import { parseArgs } from 'node:util';
import { environment, type Env } from './config.ts';
import { OmniHubConnector, type ConnectorOptions } from './connector.ts';
import { ConfigError, OmniHubError } from './errors.ts';
import { consoleLog, type LogLine } from './log.ts';
import { TaskWorker, type TaskHandlers, type TaskWorkerOptions } from './task-worker.ts';

export interface AgentContext {
  connector: OmniHubConnector;
  log: LogLine;
  env: Env;
  /** From --seed, for repeatable random outcomes; undefined for a random run. */
  seed: string | undefined;
}

/** An agent program: what its simulation sends and which task actions it handles. */
export interface AgentDefinition {
  /** For people: "Lead-Gen". */
  name: string;
  /** The integration source it acts as: "lead-gen". */
  source: string;
  /** Prefix of its own settings: LEAD_GEN → LEAD_GEN_MODE, LEAD_GEN_HYBRID_SECONDS. */
  envPrefix: string;
  /** Sends the simulated activity; returns the one-line summary to print. */
  simulate(context: AgentContext & { runId: string }): Promise<string>;
  handlers(context: AgentContext): TaskHandlers;
  workerOptions?(env: Env): Partial<TaskWorkerOptions>;
}

export interface RunAgentOptions {
  argv?: string[];
  env?: Env;
  /** Overrides for the connector (tests inject clocks and retry policies). */
  connector?: Omit<ConnectorOptions, 'env'>;
  /** Installs SIGINT/SIGTERM handlers that stop the worker gracefully (default true). */
  handleSignals?: boolean;
}

const MODES = ['simulate', 'worker', 'hybrid'] as const;
type Mode = (typeof MODES)[number];

/**
 * The command line every agent shares. Mode from <PREFIX>_MODE: `simulate`
 * (default) sends the simulated activity and exits; `worker` runs the task
 * worker until SIGINT/SIGTERM; `hybrid` simulates, then works for
 * <PREFIX>_HYBRID_SECONDS (default 60) and exits. Returns the exit code:
 * 0 done, 1 a problem to fix (named in one sentence), 2 bad usage.
 */
export async function runAgent(
  definition: AgentDefinition,
  options: RunAgentOptions = {},
): Promise<number> {
  const fail = (message: string, code: 1 | 2) => {
    console.error(`${definition.name}: ${message}`);
    return code;
  };
  let args: ReturnType<typeof parseAgentArgs>;
  try {
    args = parseAgentArgs(options.argv ?? process.argv.slice(2));
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${usage(definition)}`, 2);
  }
  if (args.help) {
    console.log(usage(definition));
    return 0;
  }

  const env = options.env ?? environment();
  const modeSetting = `${definition.envPrefix}_MODE`;
  const mode = (env[modeSetting]?.trim() || 'simulate') as Mode;
  if (!MODES.includes(mode)) {
    return fail(
      `${modeSetting} must be simulate, worker or hybrid (got "${env[modeSetting]}").`,
      1,
    );
  }
  const hybridSetting = `${definition.envPrefix}_HYBRID_SECONDS`;
  const hybridSeconds = Number(args.hybridSeconds ?? env[hybridSetting] ?? 60);
  if (mode === 'hybrid' && !(hybridSeconds > 0 && hybridSeconds <= MAX_HYBRID_SECONDS)) {
    return fail(
      `${hybridSetting} (or --hybrid-seconds) must be a number of seconds from 1 to ${MAX_HYBRID_SECONDS}.`,
      1,
    );
  }

  let connector: OmniHubConnector;
  try {
    connector = new OmniHubConnector({
      ...options.connector,
      env,
      agentSource: definition.source,
      agentName: definition.name,
    });
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message, 1);
    throw error;
  }
  const log = options.connector?.log ?? consoleLog(connector.config.workerId);
  const context: AgentContext = { connector, log, env, seed: args.seed };

  try {
    // The key decides which tasks are claimed: one of another integration would
    // have this agent fail that integration's tasks as unknown actions.
    const key = await connector.whoami();
    if (key.source !== definition.source) {
      return fail(
        `OMNIHUB_API_KEY belongs to the ${key.source} integration, but this is the ${definition.name} agent (source ${definition.source}). Use a key of the ${definition.source} integration.`,
        1,
      );
    }
    if (mode !== 'worker') {
      const runId =
        args.runId ??
        `${new Date().toISOString().replace(/[-:.TZ]/g, '')}-${crypto.randomUUID().slice(0, 8)}`;
      console.log(await definition.simulate({ ...context, runId }));
      if (mode === 'simulate') return 0;
    }
    const worker = new TaskWorker(connector, definition.handlers(context), {
      log,
      ...definition.workerOptions?.(env),
    });
    const stopSignals = options.handleSignals === false ? () => {} : stopOnSignals(worker, log);
    const timer =
      mode === 'hybrid' ? setTimeout(() => worker.stop(), hybridSeconds * 1000) : undefined;
    try {
      await worker.run();
    } finally {
      clearTimeout(timer);
      stopSignals();
    }
    return 0;
  } catch (error) {
    if (error instanceof OmniHubError) return fail(describeFailure(error), 1);
    if (error instanceof ConfigError) return fail(error.message, 1);
    return fail(
      `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      1,
    );
  }
}

/** The longest hybrid run: a day. */
export const MAX_HYBRID_SECONDS = 86_400;
const RUN_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

function parseAgentArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      'run-id': { type: 'string' },
      'hybrid-seconds': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values['run-id'] !== undefined && !RUN_ID.test(values['run-id'])) {
    throw new Error('--run-id must be 1-100 characters of letters, digits, "_", ".", ":" or "-".');
  }
  return {
    seed: values.seed,
    runId: values['run-id'],
    hybridSeconds: values['hybrid-seconds'],
    help: values.help,
  };
}

function usage(definition: AgentDefinition): string {
  const prefix = definition.envPrefix;
  return `Usage: ${prefix}_MODE=simulate|worker|hybrid pnpm ${definition.source} [--seed <value>] [--run-id <id>] [--hybrid-seconds <n>]

  simulate   send the simulated activity, print a summary, exit (default)
  worker     run this agent's task handlers until Ctrl-C
  hybrid     simulate, then run the worker for ${prefix}_HYBRID_SECONDS (default 60) seconds

  --seed       make random outcomes repeatable
  --run-id     name the simulated run; the same id again sends nothing new

Connection: OMNIHUB_BASE_URL, OMNIHUB_API_KEY, OMNIHUB_SOURCE (default ${definition.source}), OMNIHUB_WORKER_ID (from the environment or ./.env).`;
}

/** SIGINT/SIGTERM stop claiming and let running tasks finish; a second signal exits at once. */
function stopOnSignals(worker: TaskWorker, log: LogLine): () => void {
  let received = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    received = true;
    log(`${signal}: no new tasks; letting ${worker.runningCount} running task(s) finish`);
    worker.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

function describeFailure(error: OmniHubError): string {
  switch (error.code) {
    case 'unauthorized':
      return `the port refused the API key (${error.body?.message ?? error.message}). Check OMNIHUB_API_KEY.`;
    case 'permission_denied':
      return `the API key may not do this (${error.body?.message ?? error.message}).`;
    case 'omnilink_disabled':
      return `OmniLink is switched off (omnilink_disabled): ${error.body?.message ?? error.message} It was retried until giving up; run again once it is back on.`;
    default:
      return error.message;
  }
}
