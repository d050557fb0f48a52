// The demo "static site": serves demo/ on its own origin (default http://localhost:8788), with the
// relay's URL filled into the snippet, so the newcomer flow ends with a real cross-origin sign-up.
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { root } from './node.mjs'

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8' }

export function startDemoServer({ port, relay }) {
  const server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(
      /^(\.\.[/\\])+/,
      ''
    )
    const file = join(root, 'demo', path === '/' ? 'index.html' : path)
    try {
      const body = (await readFile(file, 'utf8')).replaceAll('{{RELAY}}', relay)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'text/plain' })
      res.end(body)
    } catch {
      res.writeHead(404).end('not found')
    }
  })
  server.listen(port, '127.0.0.1')
  return server
}
