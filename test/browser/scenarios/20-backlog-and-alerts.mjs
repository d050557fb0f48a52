/**
 * Issue #13 on the dashboard: the backlog against OUTBOX_MAX_PENDING and the alert counts are on
 * /admin with JavaScript off, CSP-clean, and the two cards have no axe-core violation.
 */
import { axeCheck, describeViolations } from '../../support/axe.mjs'

export async function run({ browser, test, assert, watchCsp, signIn, RELAY }) {
  const owner = await browser.newContext({ javaScriptEnabled: false })
  const page = await owner.newPage()
  const cspViolations = []
  watchCsp(page, cspViolations)

  await test('/admin shows the backlog against its cap and the alerts held back', async () => {
    await signIn(page)
    await page.goto(`${RELAY}/admin`)
    const backlog = (await page.textContent('[data-figure=backlog]')) ?? ''
    assert(/^\d+ of 5000 \(OUTBOX_MAX_PENDING\)/.test(backlog.trim()), `backlog: ${backlog}`)
    assert(await page.isVisible('#alerts h2:has-text("Alerts")'), 'the alerts card')
    // The dead letter of the scenario before raised one dead_letter alert (no webhook is set).
    assert(await page.isVisible('[data-alert=dead_letter]'), 'the dead_letter kind is listed')
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  await test('the delivery and alerts cards pass axe-core', async () => {
    const cookies = await owner.cookies()
    const violations = await axeCheck(browser, `${RELAY}/admin`, {
      cookies,
      // Only these two cards are this scenario's: the rest of the page is checked elsewhere.
      prepare: (p) =>
        p.evaluate(() => {
          for (const el of document.querySelectorAll('main > :not(h1)'))
            if (el.id !== 'delivery' && el.id !== 'alerts') el.remove()
        }),
    })
    assert(violations.length === 0, describeViolations(violations))
  })
  await owner.close()
}
