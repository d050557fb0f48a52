// The demo "static site": serves demo/ on its own origin (default http://localhost:8788), with the
// relay's URL filled into the snippet, so the newcomer flow ends with a real cross-origin sign-up.
// `/` is a fixed English form posting to `newsletter` (the browser tests fill in its fields).
// `/?form=<id>` (and /form.html?form=<id>) is a page with that form's own snippet, as the
// dashboard gives it, in the form's language (read with the sandbox's ADMIN_TOKEN: the demo site
// only runs with the sandbox).
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { root } from './node.mjs'

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8' }

/** The form's snippet from the relay (GET /admin/api/forms/:formId/snippet), or why not. */
async function snippetOf(relay, form, token) {
  try {
    const res = await fetch(`${relay}/admin/api/forms/${form}/snippet`, {
      headers: { authorization: `Bearer ${token}` },
    })
    if (res.ok) return await res.text()
    return `<p>The relay answered ${res.status} for this form's snippet.</p>`
  } catch (err) {
    return `<p>The relay could not be reached: ${String(err).replace(/[<&]/g, '')}</p>`
  }
}

/** The language the snippet's form is in (its `lang`), for the page around it. */
function languageOf(snippet) {
  return /<form\b[^>]*\slang="([A-Za-z-]{2,35})"/.exec(snippet)?.[1] ?? 'en'
}

export function startDemoServer({ port, relay, adminToken }) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = normalize(url.pathname).replace(/^(\.\.[/\\])+/, '')
    const asked = url.searchParams.get('form') ?? ''
    const chosen = /^[A-Za-z0-9_-]{1,64}$/.test(asked)
    const form = chosen ? asked : 'newsletter'
    const page = path === '/' ? (chosen ? 'form.html' : 'index.html') : path
    const file = join(root, 'demo', page)
    try {
      let body = (await readFile(file, 'utf8'))
        .replaceAll('{{RELAY}}', relay)
        .replaceAll('{{FORM}}', form)
      if (body.includes('{{SNIPPET}}')) {
        const snippet = await snippetOf(relay, form, adminToken)
        // The page takes the form's language (its own English text says lang="en"). Functions,
        // so a `$` in the snippet is not read as a replacement pattern.
        body = body
          .replace('<html lang="en">', () => `<html lang="${languageOf(snippet)}">`)
          .replace('{{SNIPPET}}', () => snippet)
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'text/plain' })
      res.end(body)
    } catch {
      res.writeHead(404).end('not found')
    }
  })
  server.listen(port, '127.0.0.1')
  return server
}
