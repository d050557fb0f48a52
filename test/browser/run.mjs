#!/usr/bin/env node
/**
 * End-to-end tests in headless Chromium (Debian's /usr/bin/chromium via playwright-core), driving
 * the real pages served by `npm start` (wrangler dev + the sandbox + the demo site on another
 * origin). Also writes the README screenshots to docs/img/.
 *
 * This file is the harness: it starts the server and the browser, then runs every module in
 * scenarios/ in name order. A scenario exports `run(ctx)` and registers its cases with
 * `ctx.test(name, fn)`; axe.mjs checks a page for accessibility violations.
 *
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { root } from '../../scripts/node.mjs'

// Ports can be moved (E2E_RELAY_PORT, E2E_DEMO_PORT) so two runs on one machine do not collide.
const RELAY_PORT = process.env.E2E_RELAY_PORT ?? '8787'
const DEMO_PORT = process.env.E2E_DEMO_PORT ?? '8788'
const RELAY = `http://localhost:${RELAY_PORT}`
const DEMO = `http://localhost:${DEMO_PORT}`
const ADMIN_TOKEN = 'sandbox-admin-token'
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const here = dirname(fileURLToPath(import.meta.url))

const results = []
async function test(name, fn) {
  const started = Date.now()
  try {
    await fn()
    results.push({ name, ok: true })
    console.log(`  ✓ ${name} (${Date.now() - started} ms)`)
  } catch (err) {
    results.push({ name, ok: false })
    console.log(`  ✗ ${name}\n    ${err?.stack ?? err}`)
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

async function waitFor(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await check()) return
    } catch {}
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

// A fresh state directory per run: the sandbox flow starts from "not connected" every time.
const state = mkdtempSync(join(tmpdir(), 'ctct-relay-e2e-'))
const server = spawn(process.execPath, ['scripts/start.mjs', '--persist-to', state], {
  cwd: root,
  env: { ...process.env, PORT: RELAY_PORT, DEMO_PORT },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
})
let serverLog = ''
server.stdout.on('data', (d) => {
  serverLog += d
})
server.stderr.on('data', (d) => {
  serverLog += d
})

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
})

/** Collects CSP violations reported in the console, to prove the pages need no exemption. */
function watchCsp(page, sink) {
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/.test(msg.text())) sink.push(msg.text())
  })
}

async function signIn(page) {
  await page.goto(`${RELAY}/admin`)
  await page.fill('input[name=token]', ADMIN_TOKEN)
  await Promise.all([page.waitForURL(`${RELAY}/admin`), page.click('button[type=submit]')])
}

try {
  await waitFor(
    async () => (await fetch(`${RELAY}/healthz`)).ok,
    'npm start to serve /healthz',
    90_000
  )
  await waitFor(async () => (await fetch(`${DEMO}/`)).ok, 'the demo site')

  const ctx = { browser, test, assert, waitFor, watchCsp, signIn, root, RELAY, DEMO, ADMIN_TOKEN }
  // Scenarios run in file-name order and share the relay's state: 10- connects it first.
  for (const file of readdirSync(join(here, 'scenarios'))
    .filter((f) => f.endsWith('.mjs'))
    .sort()) {
    const scenario = await import(join(here, 'scenarios', file))
    await scenario.run(ctx)
  }
} catch (err) {
  results.push({ name: 'setup', ok: false })
  console.log(`  ✗ setup: ${err?.stack ?? err}\n--- server log ---\n${serverLog}`)
} finally {
  await browser.close()
  try {
    process.kill(-server.pid, 'SIGTERM')
  } catch {}
  rmSync(state, { recursive: true, force: true })
}

const passed = results.filter((r) => r.ok).length
const failed = results.length - passed
if (failed > 0 && !serverLog.includes('Ready')) console.log(serverLog)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
