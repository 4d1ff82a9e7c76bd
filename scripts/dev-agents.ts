import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAX_HYBRID_SECONDS } from '@omnihub/connector';
import { REPO_ROOT } from '@omnihub/database';
import type { LocalStack } from '@omnihub/local-stack';

const AGENTS = [
  { source: 'lead-gen', script: 'agents/lead-gen/src/main.ts', envPrefix: 'LEAD_GEN' },
  { source: 'apex-sales', script: 'agents/apex-sales/src/main.ts', envPrefix: 'APEX_SALES' },
] as const;

export interface RunningAgents {
  /** Stops the agents that still run (SIGTERM: they finish their tasks) and waits for them. */
  stop(): Promise<void>;
}

/**
 * `pnpm dev --agents`: both agents in hybrid mode against the stack, each
 * with its demo key, their lines prefixed with their name, so a new user
 * sees live data at once and tasks dispatched from OmniDash get worked.
 */
export function startAgents(stack: LocalStack): RunningAgents {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  const children: ChildProcess[] = [];
  for (const agent of AGENTS) {
    const key = stack.demoKeys.find((demo) => demo.source === agent.source);
    if (!key) continue;
    const child = spawn(process.execPath, ['--import', tsx, join(REPO_ROOT, agent.script)], {
      cwd: REPO_ROOT,
      // Its own process group: the terminal's Ctrl-C reaches dev, which stops the agents in order.
      detached: true,
      env: {
        ...process.env,
        OMNIHUB_BASE_URL: stack.functionsUrl,
        OMNIHUB_API_KEY: key.apiKey,
        OMNIHUB_SOURCE: agent.source,
        OMNIHUB_WORKER_ID: `${agent.source}-dev`,
        [`${agent.envPrefix}_MODE`]: 'hybrid',
        // Work for as long as dev runs (a day at most) unless told otherwise.
        [`${agent.envPrefix}_HYBRID_SECONDS`]:
          process.env[`${agent.envPrefix}_HYBRID_SECONDS`] ?? String(MAX_HYBRID_SECONDS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = `[${agent.source}] `;
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        for (const line of text.split('\n').filter(Boolean)) console.log(prefix + line);
      });
    }
    console.log(`${prefix}started in hybrid mode (pid ${child.pid})`);
    child.on('exit', (code, signal) => console.log(`${prefix}exited (${code ?? signal})`));
    children.push(child);
  }
  return {
    async stop() {
      await Promise.all(children.map(stopChild));
    },
  };
}

/** How long an agent may take to finish its task after SIGTERM before it is killed. */
const STOP_GRACE_MS = 15_000;

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
