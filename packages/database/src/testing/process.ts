import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../paths.ts';

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Starts a process for a test and lets the test await what it prints instead of sleeping. */
export function startProcess(
  command: string,
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    /** Its own process group, so a test can signal the whole group, as a terminal's Ctrl-C does. */
    detached?: boolean;
  } = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: 'pipe',
    detached: options.detached ?? false,
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve(code ?? signal ?? -1);
      for (const listener of [...listeners]) listener();
    });
  });
  let done = false;
  void exited.then(() => (done = true));

  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          } else if (done || child.exitCode !== null) {
            cleanup();
            reject(new Error(`process exited before printing ${pattern}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}:\n${output}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;

/**
 * The node binary with tsx loaded, to run one of the repo's TypeScript entry
 * points as `pnpm` would. Paths are absolute, so the process may run in any
 * directory (e.g. an empty one, to keep a developer's .env out of a test).
 */
export function tsxCommand(script: string): [string, string[]] {
  return [
    process.execPath,
    ['--import', TSX_LOADER, isAbsolute(script) ? script : join(REPO_ROOT, script)],
  ];
}

/**
 * The Deno runtime the `deno` npm package installed: the binary itself.
 * node_modules/.bin/deno is a Node wrapper that runs it with spawnSync and
 * does not pass signals on, so stopping the wrapper left Deno running (and
 * listening) after every test run.
 */
export const DENO_BINARY = join(REPO_ROOT, 'node_modules', 'deno', 'deno');
