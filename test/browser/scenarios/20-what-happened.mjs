/**
 * Issue #15: the owner sees what happened. Sign-ups of several outcomes reach the relay; the
 * dashboard draws them (inline SVG, JavaScript off, no CSP violation), the recent activity lists
 * them, and both pages pass axe-core with zero violations. Writes docs/img/activity.png.
 */
import { join } from 'node:path'
import { axeCheck, describeViolations } from '../../support/axe.mjs'

export async function run({ browser, test, assert, waitFor, watchCsp, signIn, root, RELAY, DEMO }) {
  const owner = await browser.newContext({
    javaScriptEnabled: false,
    viewport: { width: 900, height: 700 },
  })
  const page = await owner.newPage()
  const cspViolations = []
  watchCsp(page, cspViolations)

  const post = (body, origin = DEMO) =>
    fetch(`${RELAY}/subscribe/newsletter`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    })

  await test('sign-ups of several outcomes reach the relay', async () => {
    const statuses = []
    for (const email of ['mary@example.com', 'alan@example.com', 'edsger@example.com']) {
      statuses.push((await post({ email })).status)
    }
    statuses.push((await post({ email: 'mary@example.com' })).status) // a repeat
    statuses.push((await post({ email: 'not an address' })).status)
    statuses.push((await post({ email: 'bot1@example.com', _gotcha: 'x' })).status)
    statuses.push((await post({ email: 'bot2@example.com', _gotcha: 'x' })).status)
    statuses.push((await post({ email: 'far@example.com' }, 'https://elsewhere.test')).status)
    // An accepted sign-up is delivered inline (200) or queued behind CC's pace (202): which one
    // depends on whether the pacer has a free slot at that instant, so either is right. A
    // honeypot hit is answered like a delivery (200), never queued, so bots learn nothing.
    const accepted = (s) => s === 200 || s === 202
    const expected = [accepted, accepted, accepted, accepted, 400, 200, 200, 403]
    assert(
      statuses.length === expected.length &&
        expected.every((want, i) =>
          typeof want === 'number' ? statuses[i] === want : want(statuses[i])
        ),
      `statuses: ${statuses}`
    )
  })

  await test('the dashboard draws sign-ups, deliveries, backlog, quota and the connection', async () => {
    await signIn(page)
    const charts = page.locator('#charts')
    assert(await charts.isVisible(), 'the charts section')
    const images = await charts.locator('svg[role=img]').count()
    assert(images === 4, `four charts with role=img (days, hours, deliveries, timeline): ${images}`)
    const days = await page.textContent('#chart-days-d')
    assert(/honeypot 2/.test(days ?? ''), `the summary counts the bots: ${days}`)
    assert(/accepted [4-9]/.test(days ?? ''), `and the accepted sign-ups: ${days}`)
    const bars = await charts.locator('rect.o-accepted').count()
    assert(bars >= 1, 'accepted bars are drawn')
    const timeline = await page.textContent('#chart-connection-d')
    // The scenarios share one relay: an earlier file may have connected again, so at least one.
    assert(
      /\b[1-9]\d* connects\b/.test(timeline ?? ''),
      `the timeline has the connect: ${timeline}`
    )
    assert(/Now connected/.test(timeline ?? ''), `and the state now: ${timeline}`)
    assert(await page.isVisible('text=Constant Contact requests today (daily quota)'), 'quota')
    // One form only, by the form picker (a plain GET form).
    await page.selectOption('#pick-form', 'newsletter')
    await Promise.all([page.waitForURL(/form=newsletter/), page.click('#charts button')])
    const title = await page.textContent('#chart-days-t')
    assert(title === 'Sign-ups per day by outcome, form newsletter', `title: ${title}`)
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  await test('the recent activity lists and filters them, addresses masked', async () => {
    const listed = async () => {
      await page.goto(`${RELAY}/admin/activity`)
      return page
        .locator('#activity tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-outcome')))
    }
    // A sign-up answered 202 is delivered by the outbox a moment later: wait for it, bounded.
    let outcomes = []
    await waitFor(async () => {
      outcomes = await listed()
      return outcomes.includes('delivered')
    }, 'a delivery')
    for (const o of ['accepted', 'delivered', 'duplicate', 'invalid_input', 'honeypot']) {
      assert(outcomes.includes(o), `${o} listed: ${outcomes.join(',')}`)
    }
    assert(await page.isVisible('text=m•••y@example.com'), 'a masked address')
    assert(!(await page.isVisible('text=mary@example.com')), 'never the address itself')
    await page.screenshot({ path: join(root, 'docs/img/activity.png'), fullPage: true })
    await page.selectOption('#pick-outcome', 'honeypot')
    await Promise.all([page.waitForURL(/outcome=honeypot/), page.click('button[type=submit]')])
    const filtered = await page.locator('#activity tbody tr').count()
    assert(filtered === 2, `two honeypot lines: ${filtered}`)
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  await test('the charts and the activity pass axe-core with zero violations', async () => {
    const cookies = await owner.cookies()
    for (const path of ['/admin', '/admin/activity']) {
      const violations = await axeCheck(browser, `${RELAY}${path}`, {
        cookies,
        // The tables are in <details>: open them, so axe checks them too.
        prepare: (p) =>
          p.evaluate(() => {
            for (const d of document.querySelectorAll('details')) d.open = true
          }),
      })
      assert(violations.length === 0, `${path}: ${describeViolations(violations)}`)
    }
  })

  await owner.close()
}
