#!/usr/bin/env node
/**
 * End-to-end tests in headless Chromium (Debian's /usr/bin/chromium via playwright-core), driving
 * the real pages served by `npm start` (wrangler dev + the sandbox + the demo site on another
 * origin). Also writes the README screenshots to docs/img/.
 *
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { root } from '../scripts/node.mjs'

// Ports can be moved (E2E_RELAY_PORT, E2E_DEMO_PORT) so two runs on one machine do not collide.
const RELAY_PORT = process.env.E2E_RELAY_PORT ?? '8787'
const DEMO_PORT = process.env.E2E_DEMO_PORT ?? '8788'
const RELAY = `http://localhost:${RELAY_PORT}`
const DEMO = `http://localhost:${DEMO_PORT}`
const ADMIN_TOKEN = 'sandbox-admin-token'
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

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

  // The owner's pages must work with JavaScript off: they are plain forms and links.
  const owner = await browser.newContext({
    javaScriptEnabled: false,
    viewport: { width: 900, height: 1400 },
  })
  const ownerPage = await owner.newPage()
  const cspViolations = []
  watchCsp(ownerPage, cspViolations)

  await test('the owner signs in, connects through the sandbox and sees "connected"', async () => {
    await signIn(ownerPage)
    assert(await ownerPage.isVisible('text=Not connected'), 'starts not connected')
    await ownerPage.click('text=Connect Constant Contact')
    await ownerPage.waitForURL(/\/__sandbox\/authorize/)
    await ownerPage.click('button[value=allow]')
    await ownerPage.waitForURL(`${RELAY}/admin?notice=connected`)
    assert(await ownerPage.isVisible('[data-state=connected]'), 'dashboard shows connected')
    const health = await (await fetch(`${RELAY}/healthz`)).json()
    assert(health.connected === true, '/healthz says connected')
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  const visitor = await browser.newContext({ viewport: { width: 700, height: 700 } })
  const visitorPage = await visitor.newPage()

  await test('a visitor on the demo origin subscribes with JS, without leaving the page', async () => {
    await visitorPage.goto(DEMO)
    await visitorPage.fill('input[name=email]', 'ada@example.com')
    await visitorPage.fill('input[name=first_name]', 'Ada')
    await visitorPage.click('button')
    await visitorPage.waitForSelector('form[data-state=done]')
    const status = await visitorPage.textContent('[data-ctct-status]')
    assert(/Thanks/.test(status ?? ''), `status text: ${status}`)
    assert(visitorPage.url() === `${DEMO}/`, `no navigation: ${visitorPage.url()}`)
    await visitorPage.screenshot({ path: join(root, 'docs/img/demo-form.png') })
  })

  await test('field errors from the relay are shown next to their field', async () => {
    await visitorPage.goto(DEMO)
    await visitorPage.fill('input[name=email]', 'long@example.com')
    await visitorPage.fill('input[name=first_name]', 'x'.repeat(60))
    await visitorPage.click('button')
    await visitorPage.waitForSelector('form[data-state=error]')
    const note = await visitorPage.textContent('[data-ctct-error=first_name]')
    assert(note && note.length > 0, 'an error message next to first_name')
    assert(
      (await visitorPage.getAttribute('input[name=first_name]', 'aria-invalid')) === 'true',
      'aria-invalid'
    )
  })

  await test('a visitor without JS posts the form and lands on the success URL', async () => {
    const noJs = await browser.newContext({ javaScriptEnabled: false })
    const page = await noJs.newPage()
    await page.goto(DEMO)
    await page.fill('input[name=email]', 'grace@example.com')
    await Promise.all([page.waitForURL(`${DEMO}/thanks.html`), page.click('button')])
    assert(await page.isVisible('text=Thanks for subscribing'), 'thank-you page')
    await noJs.close()
  })

  await test('the sign-ups land in the sandbox, as the dashboard shows', async () => {
    await ownerPage.goto(`${RELAY}/admin`)
    for (const email of ['ada@example.com', 'grace@example.com']) {
      assert(await ownerPage.isVisible(`[data-sandbox-contact="${email}"]`), `${email} in sandbox`)
    }
    await ownerPage.screenshot({ path: join(root, 'docs/img/dashboard.png'), fullPage: true })
  })

  await test('a dead letter (list deleted in CC) is retried from the dashboard', async () => {
    // Config drift: the owner deletes the form's list "in Constant Contact" (the sandbox).
    await ownerPage.goto(`${RELAY}/__sandbox`)
    await ownerPage.click('[data-sandbox-list] button.danger')
    await visitorPage.goto(DEMO)
    await visitorPage.fill('input[name=email]', 'drift@example.com')
    await visitorPage.click('button')
    await visitorPage.waitForSelector('form[data-state=error]')
    const status = await visitorPage.textContent('[data-ctct-status]')
    assert(!/Thanks/.test(status ?? ''), `a refused sign-up is never "thanks": ${status}`)

    await ownerPage.goto(`${RELAY}/admin`)
    assert(await ownerPage.isVisible('[data-dead-letter]'), 'the dead letter is listed')
    assert(await ownerPage.isVisible('text=d•••t@example.com'), 'the address is masked')
    assert(await ownerPage.isVisible('[data-check=drift]'), 'the form is flagged')

    // The owner fixes the cause, then clicks Retry.
    await ownerPage.goto(`${RELAY}/__sandbox`)
    await ownerPage.click('[data-sandbox-list] button:has-text("Restore")')
    await ownerPage.goto(`${RELAY}/admin`)
    await Promise.all([
      ownerPage.waitForURL(`${RELAY}/admin?notice=retrying`),
      ownerPage.click('[data-dead-letter] button:has-text("Retry")'),
    ])
    await waitFor(async () => {
      await ownerPage.goto(`${RELAY}/admin`)
      return ownerPage.isVisible('[data-sandbox-contact="drift@example.com"]')
    }, 'the retried sign-up to reach the sandbox')
    assert(!(await ownerPage.isVisible('[data-dead-letter]')), 'no dead letters left')
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })
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
