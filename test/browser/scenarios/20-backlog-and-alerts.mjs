/**
 * Issue #13 on the dashboard: the backlog against OUTBOX_MAX_PENDING (the Overview) and the alert
 * counts (the Connection page) with JavaScript off, CSP-clean, and no axe-core violation there.
 */
import { axeCheck, describeViolations } from '../../support/axe.mjs'

export async function run({ browser, test, assert, watchCsp, signIn, RELAY }) {
  const owner = await browser.newContext({ javaScriptEnabled: false })
  const page = await owner.newPage()
  const cspViolations = []
  watchCsp(page, cspViolations)

  await test('the Overview shows the backlog against its cap; Connection, the alerts held back', async () => {
    await signIn(page)
    await page.goto(`${RELAY}/admin`)
    const backlog = (await page.textContent('[data-figure=backlog]')) ?? ''
    assert(/^\d+ of 5000 \(OUTBOX_MAX_PENDING\)/.test(backlog.trim()), `backlog: ${backlog}`)
    await page.goto(`${RELAY}/admin/connection`)
    assert(await page.isVisible('#alerts h2:has-text("Alerts")'), 'the alerts card')
    // The dead letter of the scenario before raised one dead_letter alert (no webhook is set).
    assert(await page.isVisible('[data-alert=dead_letter]'), 'the dead_letter kind is listed')
    assert(
      await page.isVisible('[data-alert-channel=none]'),
      'no alert channel is set, and the page says how to set one'
    )
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  await test('the Connection page passes axe-core', async () => {
    const cookies = await owner.cookies()
    const violations = await axeCheck(browser, `${RELAY}/admin/connection`, { cookies })
    assert(violations.length === 0, describeViolations(violations))
  })
  await owner.close()
}
