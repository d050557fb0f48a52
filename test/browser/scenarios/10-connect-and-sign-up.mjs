/**
 * The newcomer's path: the owner connects through the sandbox; visitors sign up on the demo site,
 * with and without JavaScript; a dead letter is retried from the dashboard.
 */
import { join } from 'node:path'

export async function run({ browser, test, assert, waitFor, watchCsp, signIn, root, RELAY, DEMO }) {
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
    assert(await ownerPage.isVisible('[data-problem=form]'), 'the form is flagged')
    const cause = (await ownerPage.textContent('[data-dead-letter] [data-cause]')) ?? ''
    assert(/a list your account no longer has/.test(cause), `the cause in words: ${cause}`)

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
}
