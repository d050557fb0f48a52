// The demo "static site": serves demo/ on its own origin (default http://localhost:8788), with the
// relay's URL filled into the snippet, so the newcomer flow ends with a real cross-origin sign-up.
// `?form=<id>` points the page's form at another form (one made in /admin, say) than newsletter.
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { root } from './node.mjs'

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8' }

export function startDemoServer({ port, relay }) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = normalize(url.pathname).replace(/^(\.\.[/\\])+/, '')
    const asked = url.searchParams.get('form') ?? ''
    const form = /^[A-Za-z0-9_-]{1,64}$/.test(asked) ? asked : 'newsletter'
    const file = join(root, 'demo', path === '/' ? 'index.html' : path)
    try {
      const body = (await readFile(file, 'utf8'))
        .replaceAll('{{RELAY}}', relay)
        .replaceAll('{{FORM}}', form)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'text/plain' })
      res.end(body)
    } catch {
      res.writeHead(404).end('not found')
    }
  })
  server.listen(port, '127.0.0.1')
  return server
}
