// The /demo page (issue 7): filled in by the toolkit work. The server mounts GET /demo and GET /demo/*.
export function demoResponse(_path: string): Response {
  return new Response('demo coming soon', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
