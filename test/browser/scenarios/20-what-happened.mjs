/**
 * Issues #15 and #20: the owner sees what happened. Sign-ups of several outcomes reach the relay;
 * the Activity page draws them (inline SVG, JavaScript off, no CSP violation) and lists one row
 * per sign-up with its final status and reason; at 390 px it does not overflow sideways and its
 * chart labels are at least 12 px; it passes axe-core with zero violations. Writes
 * docs/img/activity.png.
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

  await test('the Activity page draws sign-ups, deliveries, backlog, quota and the connection', async () => {
    await signIn(page)
    await page.goto(`${RELAY}/admin/activity`)
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
    // One form only, by the filter (a plain GET form).
    await page.selectOption('#pick-form', 'newsletter')
    await Promise.all([page.waitForURL(/form=newsletter/), page.click('form.filter button')])
    const title = await page.textContent('#chart-days-t')
    assert(title === 'Sign-ups per day by outcome, form newsletter', `title: ${title}`)
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  await test('the Activity page lists one row per sign-up with its status and reason', async () => {
    const listed = async () => {
      await page.goto(`${RELAY}/admin/activity?form=newsletter`)
      return page.locator('#activity tbody tr').evaluateAll((rows) =>
        rows.map((r) => ({
          outcome: r.getAttribute('data-outcome'),
          email: r.cells[2].textContent,
          text: r.cells[3].textContent,
        }))
      )
    }
    // A sign-up answered 202 is delivered by the outbox a moment later: wait until none waits.
    let rows = []
    await waitFor(async () => {
      rows = await listed()
      return (
        rows.some((r) => r.outcome === 'delivered') &&
        !rows.some((r) => r.text.startsWith('Waiting'))
      )
    }, 'the deliveries')
    const emails = (masked) => rows.filter((r) => r.email === masked).map((r) => r.text)
    // Each address once per sign-up: Mary twice (hers, then her repeat), Alan once.
    assert(
      JSON.stringify(emails('a•••n@example.com')) === JSON.stringify(['Sent to Constant Contact']),
      `one row for alan, sent: ${JSON.stringify(emails('a•••n@example.com'))}`
    )
    assert(
      emails('m•••y@example.com').length === 2 &&
        emails('m•••y@example.com').includes('Sent to Constant Contact'),
      `mary's sign-up and her repeat: ${JSON.stringify(emails('m•••y@example.com'))}`
    )
    const texts = rows.map((r) => r.text)
    for (const want of [
      'Refused: email — not an email address',
      'Refused: bot trap (honeypot)',
      'Refused: origin https://elsewhere.test is not allowed',
    ]) {
      assert(texts.includes(want), `${want}: ${texts.join(' | ')}`)
    }
    assert(!rows.some((r) => r.outcome === 'accepted'), 'no separate "accepted" rows')
    assert(await page.isVisible('text=m•••y@example.com'), 'a masked address')
    assert(!(await page.isVisible('text=mary@example.com')), 'never the address itself')
    assert((await page.locator('#activity time[datetime]').count()) === rows.length, '<time>s')
    await page.screenshot({ path: join(root, 'docs/img/activity.png'), fullPage: true })
    await page.selectOption('#pick-status', 'refused')
    await Promise.all([page.waitForURL(/status=refused/), page.click('form.filter button')])
    const refused = await page
      .locator('#activity tbody tr')
      .evaluateAll((trs) =>
        trs.map((r) => [r.getAttribute('data-status'), r.getAttribute('data-outcome')])
      )
    assert(
      refused.every(([status]) => status === 'refused'),
      `only refusals: ${refused}`
    )
    assert(
      refused.filter(([, outcome]) => outcome === 'honeypot').length === 2,
      `two honeypot rows: ${refused}`
    )
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  await test('at 390 px the Activity page has no sideways overflow, and chart text is ≥ 12 px', async () => {
    const phone = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 390, height: 844 },
      storageState: await owner.storageState(),
    })
    const small = await phone.newPage()
    await small.goto(`${RELAY}/admin/activity`)
    // Open the figure tables too: they must scroll inside their wrapper, not widen the page.
    await small.evaluate(() => {
      for (const d of document.querySelectorAll('details')) d.open = true
    })
    const widths = await small.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      inner: window.innerWidth,
    }))
    assert(widths.scroll <= widths.inner, `no sideways overflow: ${JSON.stringify(widths)}`)
    const labels = await small.evaluate(() =>
      [
        ...document.querySelectorAll(
          '#charts .y-axis span, #charts .x-axis span, #charts .legend li, #charts svg text'
        ),
      ]
        .filter((el) => el.textContent.trim() !== '')
        .map((el) => ({
          text: el.textContent,
          px: parseFloat(getComputedStyle(el).fontSize),
          height: el.getBoundingClientRect().height,
        }))
    )
    assert(labels.length > 20, `chart labels found: ${labels.length}`)
    const tiny = labels.filter((l) => l.px < 12 || l.height < 12)
    assert(tiny.length === 0, `chart text under 12 px: ${JSON.stringify(tiny.slice(0, 5))}`)
    // A figure table's heading wraps between words, never inside one.
    const heading = await small.evaluate(() => {
      const th = document
        .querySelector('#chart-deliveries-t')
        ?.closest('figure')
        ?.querySelector('thead th:last-child')
      return th ? getComputedStyle(th).overflowWrap : null
    })
    assert(heading === 'normal', `table headings wrap by words: ${heading}`)
    await phone.close()
  })

  await test('the Activity page passes axe-core with zero violations', async () => {
    const cookies = await owner.cookies()
    for (const path of ['/admin/activity', '/admin/activity?form=newsletter&status=refused']) {
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
