import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DASHBOARD_CONFIG_GLOBAL, type DashboardRuntimeConfig } from '@omnihub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardApp } from '../src/dashboard.ts';
import { startTestStack, type TestStack } from '../src/testing.ts';

let t: TestStack;
let root: string;
let dist: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omnihub-dashboard-test-'));
  dist = join(root, 'dist');
  t = await startTestStack({}, { dashboardDir: dist });
});
afterAll(async () => {
  await t?.close();
  await rm(root, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${t.stack.apiUrl}${path}`, { headers });

/** The runtime config index.html carries, as the dashboard's browser code would read it. */
function runtimeConfig(html: string): DashboardRuntimeConfig {
  const match = new RegExp(`<script>window\\.${DASHBOARD_CONFIG_GLOBAL} = (.*?);</script>`).exec(
    html,
  );
  expect(match, 'no runtime config in index.html').not.toBeNull();
  return JSON.parse(match![1]!) as DashboardRuntimeConfig;
}

describe('/ of the local stack', () => {
  it('lists the endpoints until OmniDash is built, and serves no pages', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(await index.json()).toMatchObject({
      dashboard: expect.stringMatching(/not built yet/),
      endpoints: { rest: '/rest/v1', port: '/functions/v1/omnilink-port' },
    });
    expect((await get('/omnidash/tasks')).status).toBe(404);
  });

  it('serves a build made while it runs, with this stack’s URL and anon key in index.html', async () => {
    await mkdir(join(dist, 'assets'), { recursive: true });
    await writeFile(
      join(dist, 'index.html'),
      '<!doctype html><html><head><title>OmniDash</title></head><body><div id="root"></div></body></html>',
    );
    await writeFile(join(dist, 'assets', 'index-abc123.js'), 'console.log("omnidash")');
    await writeFile(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(root, 'secret.txt'), 'outside the build');

    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await index.text();
    expect(html).toContain('<title>OmniDash</title>');
    expect(runtimeConfig(html)).toEqual({
      supabaseUrl: t.stack.apiUrl,
      supabaseAnonKey: t.stack.anonKey,
    });

    // The browser's origin is the URL it reached the stack by.
    const viaLocalhost = await fetch(`${t.stack.apiUrl.replace('127.0.0.1', 'localhost')}/`);
    expect(runtimeConfig(await viaLocalhost.text()).supabaseUrl).toBe(
      t.stack.apiUrl.replace('127.0.0.1', 'localhost'),
    );
  });

  it('answers deep links with index.html and serves assets as files', async () => {
    for (const page of ['/omnidash/local-agents', '/omnidash/tasks?status=queued', '/index.html']) {
      const response = await get(page);
      expect(response.status, page).toBe(200);
      expect(runtimeConfig(await response.text()).supabaseAnonKey, page).toBe(t.stack.anonKey);
    }

    const asset = await get('/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).toBe('console.log("omnidash")');

    const icon = await get('/favicon.svg');
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(icon.headers.get('cache-control')).toBeNull();

    expect((await get('/assets/missing-000.js')).status).toBe(404);
  });

  it('serves nothing outside the build directory', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const response = await get(path);
      expect(await response.text(), path).not.toContain('outside the build');
    }
  });

  it('leaves the API paths to the API', async () => {
    const rest = await get('/rest/v1/tasks');
    expect(rest.status).toBe(401);
    expect(await rest.json()).toMatchObject({ message: 'No API key found in request' });
    expect((await get('/functions/v1/omnilink-port/health')).status).toBe(200);
    expect((await get('/auth/v1/user', { apikey: t.stack.anonKey })).status).toBe(401);
  });
});

describe('the runtime config script', () => {
  it('cannot be closed early by a value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'omnihub-dashboard-unit-'));
    try {
      await writeFile(join(dir, 'index.html'), '<html><head></head><body></body></html>');
      const app = dashboardApp(dir, { supabaseAnonKey: '</script><script>alert(1)</script>' });
      const html = await (await app.request('http://127.0.0.1:1/')).text();
      expect(html.match(/<\/script>/g)).toHaveLength(1);
      expect(runtimeConfig(html).supabaseAnonKey).toBe('</script><script>alert(1)</script>');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
