import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, tsxCommand } from '@omnihub/database/testing';
import type { DemoKey } from '@omnihub/local-stack';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Debian's Chromium (CI installs it); override with CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Where each test's final screenshot goes (git-ignored). */
export const SCREENSHOT_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'test-results',
);

export interface Login {
  email: string;
  password: string;
}

export interface E2E {
  t: TestStack;
  browser: Browser;
  /** The demo tenant (where the stack's operator is admin and its demo keys belong). */
  tenantId: string;
  /** admin@omnihub.local, the demo tenant's admin. */
  admin: Login;
  demoKey(source: 'lead-gen' | 'apex-sales'): DemoKey;
  /** A user of the demo tenant with `role`. */
  user(role: 'viewer' | 'operator' | 'admin'): Promise<Login>;
  /** A fresh browser context (its own storage) and page, at laptop size unless told. */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  /** Signs in through the form and waits for the dashboard with live updates on. */
  signIn(page: Page, login: Login, path?: string): Promise<void>;
  /** Runs an agent to its end (simulate mode unless env says otherwise); returns its output. */
  runAgent(source: 'lead-gen' | 'apex-sales', env?: Record<string, string>): Promise<string>;
  /** Starts an agent worker; stop() sends SIGTERM and waits. */
  startWorker(source: 'lead-gen' | 'apex-sales'): { stop(): Promise<void>; output(): string };
  /** Saves the page as test-results/<name>.png. */
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

/** The local stack (serving this run's OmniDash build at /) and a headless Chromium. */
export async function startE2E(): Promise<E2E> {
  const t = await startTestStack({}, { dashboardDir: inject('omnidashDist') });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  const workers: { stop(): Promise<void> }[] = [];
  const [tenant] = await t.db.sql`select id from public.tenants where slug = 'demo'`;
  const tenantId = tenant!.id as string;
  await mkdir(SCREENSHOT_DIR, { recursive: true });

  const demoKey = (source: 'lead-gen' | 'apex-sales') =>
    t.stack.demoKeys.find((key) => key.source === source)!;
  const agentEnv = (source: 'lead-gen' | 'apex-sales') => ({
    OMNIHUB_BASE_URL: t.stack.functionsUrl,
    OMNIHUB_API_KEY: demoKey(source).apiKey,
    OMNIHUB_SOURCE: source,
    OMNIHUB_WORKER_ID: `${source}-e2e`,
  });
  const agentCommand = (source: 'lead-gen' | 'apex-sales') =>
    tsxCommand(`agents/${source}/src/main.ts`);

  return {
    t,
    browser,
    tenantId,
    admin: t.stack.operator,
    demoKey,
    async user(role) {
      const user = await t.createUser({ tenantId, role });
      return { email: user.email, password: user.password };
    },
    async page(viewport = { width: 1280, height: 860 }) {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      return context.newPage();
    },
    async signIn(page, login, path = '/omnidash/local-agents') {
      await page.goto(`${t.stack.apiUrl}${path}`);
      await page.getByLabel('Email').fill(login.email);
      await page.getByLabel('Password').fill(login.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    },
    async runAgent(source, env = {}) {
      const [node, args] = agentCommand(source);
      const agent = startProcess(node, args, { env: { ...agentEnv(source), ...env } });
      const code = await agent.exited;
      if (code !== 0) throw new Error(`${source} exited with ${code}:\n${agent.output()}`);
      return agent.output();
    },
    startWorker(source) {
      const [node, args] = agentCommand(source);
      const prefix = source === 'lead-gen' ? 'LEAD_GEN' : 'APEX_SALES';
      const worker = startProcess(node, args, {
        env: { ...agentEnv(source), [`${prefix}_MODE`]: 'worker' },
      });
      const handle = {
        output: () => worker.output(),
        async stop() {
          if (worker.child.exitCode === null && worker.child.signalCode === null)
            worker.child.kill('SIGTERM');
          await worker.exited;
        },
      };
      workers.push(handle);
      return handle;
    },
    async screenshot(page, name) {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.stop()));
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await t.close();
    },
  };
}
