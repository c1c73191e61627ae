// The /demo page: price from /v1/pricing, "Compute with WebLN" through the toolkit, and a plain-fetch
// button so the extension's 402 handling shows. The server mounts GET /demo and GET /demo/* here.
import { pageModule, toolkitModule } from './bundle.ts';
import { demoHtml } from './page-html.ts';

const JS = 'text/javascript; charset=utf-8';

async function script(build: () => Promise<string>): Promise<Response> {
  try {
    return new Response(await build(), { headers: { 'content-type': JS, 'cache-control': 'no-cache' } });
  } catch (e) {
    // A bundling failure is a server problem: say so in the console of the page, not with a stack trace.
    console.error('demo: bundling failed', e);
    return new Response('console.error("demo: the server could not build this module");', {
      status: 500,
      headers: { 'content-type': JS },
    });
  }
}

/**
 * Serves the demo: `/demo` (HTML), `/demo/app.js` (page script), `/demo/toolkit.js` (the toolkit as an ES module).
 * @example app.get('/demo/*', (c) => demoResponse(c.req.path));
 */
export function demoResponse(path: string): Response | Promise<Response> {
  switch (path) {
    case '/demo':
    case '/demo/':
    case '/demo/index.html':
      return new Response(demoHtml(), {
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
      });
    case '/demo/app.js':
      return script(pageModule);
    case '/demo/toolkit.js':
      return script(toolkitModule);
    default:
      return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
}
