/**
 * The core must run on Workers and Deno alike, so src/core/ may use web-standard APIs only. This
 * fails when a core module imports a runtime's own modules (cloudflare:, node:, npm:, jsr:,
 * bun:) or touches a runtime global (Deno., Bun., process., require()). It runs under Deno, not
 * vitest: vitest runs inside workerd, where reading the source tree is not the point.
 */
import assert from 'node:assert/strict'

const CORE = new URL('../../src/core/', import.meta.url)

const RUNTIME_SPECIFIER = /^(cloudflare|node|npm|jsr|bun):/
const SPECIFIERS = [
  /\bfrom\s*['"]([^'"]+)['"]/g, // import … from, export … from
  /\bimport\s*['"]([^'"]+)['"]/g, // import 'x' (side effects)
  /\bimport\s*\(\s*['"]([^'"]+)['"]/g, // import('x')
  /\brequire\s*\(\s*['"]([^'"]+)['"]/g,
]
const RUNTIME_GLOBALS = /\b(Deno|Bun|process)\s*\.\s*[A-Za-z_$]|\brequire\s*\(/

/** Comments can mention other runtimes ("on Deno."); only code counts. Strings stay. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1')
}

function specifiers(source: string): string[] {
  return SPECIFIERS.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]))
}

function violations(source: string): string[] {
  const found = specifiers(source)
    .filter((s) => RUNTIME_SPECIFIER.test(s))
    .map((s) => `imports ${s}`)
  const global = RUNTIME_GLOBALS.exec(stripComments(source))
  if (global) found.push(`uses ${global[0].trim()}`)
  return found
}

async function* sources(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? '/' : ''), dir)
    if (entry.isDirectory) yield* sources(url)
    else if (/\.(ts|tsx|js|mjs)$/.test(entry.name)) yield url
  }
}

Deno.test('src/core imports no runtime-specific module and uses no runtime global', async () => {
  const queue: URL[] = []
  for await (const file of sources(CORE)) queue.push(file)
  const coreFiles = queue.length
  assert.ok(coreFiles >= 10, `expected the core's modules under ${CORE.pathname}`)
  // The core's relative imports that leave src/core/ (shared modules) are held to the same rule.
  const checked = new Set<string>()
  const problems: string[] = []
  while (queue.length > 0) {
    const file = queue.shift() as URL
    if (checked.has(file.href)) continue
    checked.add(file.href)
    const source = await Deno.readTextFile(file)
    const name = file.pathname.split('/src/')[1]
    for (const v of violations(source)) problems.push(`src/${name}: ${v}`)
    for (const s of specifiers(source)) if (s.startsWith('.')) queue.push(new URL(s, file))
  }
  assert.deepEqual(problems, [])
})

Deno.test('the check itself catches each kind of violation', () => {
  const bad = [
    "import { DurableObject } from 'cloudflare:workers'",
    "import { readFile } from 'node:fs/promises'",
    "export { x } from 'npm:hono'",
    "import 'jsr:@std/assert'",
    "const m = await import('node:crypto')",
    'const port = Deno.env.get("PORT")',
    'const v = process.env.X',
    "const fs = require('fs')",
  ]
  for (const line of bad) assert.notDeepEqual(violations(line), [], line)
  const fine = [
    "import { Hono } from 'hono'",
    "import type { Config } from './config.ts'",
    '/** On Deno.cron the watchdog runs; see node:fs. */ const a = 1',
    '// process.env is not read here',
    "const url = 'https://api.cc.email/v3' // Deno.env",
  ]
  for (const line of fine) assert.deepEqual(violations(line), [], line)
})
