import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { dashboardConfigScript, type DashboardRuntimeConfig } from '@omnihub/contracts';
import { Hono, type Context, type MiddlewareHandler } from 'hono';

/**
 * `/` of the local stack: the built OmniDash in `dir` (Vite's output), its
 * files as they are and every other page path answered with index.html, so
 * the client-side router can take deep links and reloads. index.html gets the
 * runtime config (this stack's URL as the browser reached it, and its anon
 * key). Until the dashboard is built, `/` says how to build it.
 */
export function dashboardApp(
  dir: string | undefined,
  config: Omit<DashboardRuntimeConfig, 'supabaseUrl'>,
): Hono {
  const app = new Hono();
  // Checked per request, so a build made while the stack runs is served at once.
  const built = () => dir !== undefined && existsSync(join(dir, 'index.html'));
  const endpoints = (c: Context) =>
    c.json({
      name: 'OmniHub local stack',
      dashboard: `OmniDash is not built yet (no ${dir ?? 'dashboard dir'}/index.html).`,
      endpoints: {
        auth: '/auth/v1',
        rest: '/rest/v1',
        realtime: '/realtime/v1/websocket',
        port: '/functions/v1/omnilink-port',
        openapi: '/functions/v1/omnilink-port/openapi.json',
      },
    });

  const indexPage = async (c: Context) => {
    if (!built()) return endpoints(c);
    const html = await readFile(join(dir!, 'index.html'), 'utf8');
    const script = dashboardConfigScript({ supabaseUrl: new URL(c.req.url).origin, ...config });
    c.header('Cache-Control', 'no-cache');
    return c.html(
      html.includes('</head>') ? html.replace('</head>', `${script}</head>`) : script + html,
    );
  };

  // Made on first use: serveStatic warns about a root that does not exist yet.
  let staticFiles: MiddlewareHandler | undefined;
  const files: MiddlewareHandler = (c, next) => {
    staticFiles ??= serveStatic({
      root: dir,
      // Vite names assets by content hash: a name never changes content.
      onFound: (path, found) => {
        if (path.startsWith(join(dir!, 'assets')))
          found.header('Cache-Control', 'public, max-age=31536000, immutable');
      },
    });
    return staticFiles(c, next);
  };

  app.get('/', indexPage);
  app.get('/index.html', indexPage);
  app.use('*', (c, next) => (built() ? files(c, next) : next()));
  // A page path (no file extension) is the router's; a missing file stays a 404.
  app.get('*', (c) =>
    built() && extname(c.req.path) === ''
      ? indexPage(c)
      : c.json({ error: 'not_found', message: `Nothing is served at ${c.req.path}.` }, 404),
  );
  return app;
}
