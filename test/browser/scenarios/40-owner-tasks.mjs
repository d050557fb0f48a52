/**
 * Issue #20: every owner task, found from the navigation, on a desktop (1280 px) and on a phone
 * (390 px): connect; make a form; copy its snippet; see a refused origin and add it; retry a
 * failed sign-up; sign out. On every page on the way: no sideways scrolling, no CSP violation;
 * the Overview at 1280 px is at most about 2,400 px tall. Writes docs/img/overview.png and
 * docs/img/form-page.png (desktop) and docs/img/overview-phone.png.
 */
import { join } from 'node:path'

const SECOND_LIST = '3a1b2c4d-0000-4000-8000-000000000002' // "Sandbox product updates"

export async function run({ browser, test, assert, waitFor, watchCsp, signIn, root, RELAY }) {
  for (const [label, viewport] of [
    ['1280 px', { width: 1280, height: 900 }],
    ['390 px', { width: 390, height: 844 }],
  ]) {
    const phone = viewport.width < 500
    const formId = phone ? 'tasks-phone' : 'tasks-desktop'
    const site = `https://www.${formId}.example`
    const owner = await browser.newContext({ viewport, isMobile: phone, hasTouch: phone })
    await owner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: RELAY })
    const page = await owner.newPage()
    const cspViolations = []
    watchCsp(page, cspViolations)

    /** The page fits the screen's width: nothing scrolls sideways but what scrolls inside itself. */
    const fitsWidth = async () => {
      await page.waitForLoadState('load')
      const { scroll, inner } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        inner: window.innerWidth,
      }))
      assert(scroll <= inner, `${page.url()}: ${scroll} px wide on a ${inner} px screen`)
    }
    /** A section, by the header navigation, as an owner finds it. */
    const open = async (section) => {
      const link = page.locator(`nav[aria-label=Dashboard] a:has-text("${section}")`)
      const href = await link.getAttribute('href')
      await Promise.all([page.waitForURL(`${RELAY}${href}`), link.click()])
      await fitsWidth()
    }
    /** A sign-up as a visitor's browser on `origin` sends it. */
    const signUp = (email, origin) =>
      fetch(`${RELAY}/subscribe/${formId}`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ email }),
      })

    await test(`${label}: sign in, then connect from the Connection page`, async () => {
      await signIn(page)
      await fitsWidth()
      await open('Connection')
      await page.click('a[href="/oauth/authorize"]')
      await page.waitForURL(/\/__sandbox\/authorize/)
      await page.click('button[value=allow]')
      await page.waitForURL(`${RELAY}/admin?notice=connected`)
      assert(await page.isVisible('[data-state=connected]'), 'the Overview says connected')
      await fitsWidth()
      if (!phone) {
        const height = await page.evaluate(() => document.documentElement.scrollHeight)
        assert(height <= 2400, `the Overview is ${height} px tall`)
        await page.screenshot({ path: join(root, 'docs/img/overview.png'), fullPage: true })
      } else {
        await page.screenshot({ path: join(root, 'docs/img/overview-phone.png') })
      }
    })

    await test(`${label}: make a form from Forms`, async () => {
      await open('Forms')
      await Promise.all([
        page.waitForURL(`${RELAY}/admin/forms/new`),
        page.click('a:has-text("New form")'),
      ])
      await fitsWidth()
      await page.fill('#f-id', formId)
      await page.check('label.choice:has-text("Sandbox product updates") input')
      await page.fill('#f-origins', 'https://right.example')
      await Promise.all([
        page.waitForURL(`${RELAY}/admin/forms/${formId}?notice=form_saved`),
        page.click('button[value=save]'),
      ])
      assert(await page.isVisible('text=Form saved.'), 'the form’s page says so')
      await fitsWidth()
    })

    await test(`${label}: copy the snippet with the Copy button`, async () => {
      const button = page.locator('button[data-copy]')
      assert(await button.isVisible(), 'owner.js shows the Copy button')
      await button.click()
      await page.waitForSelector('[data-copy-status]:has-text("Copied.")')
      const copied = await page.evaluate(() => navigator.clipboard.readText())
      const shown = await page.inputValue('textarea[data-copy-source]')
      assert(copied === shown, 'the clipboard holds the snippet')
      assert(copied.includes(`${RELAY}/subscribe/${formId}`), `it posts to the form: ${copied}`)
      // Escaped once: the attribute reads as HTML, not as &quot;.
      assert(!copied.includes('&quot;'), 'no double escaping')
      if (!phone)
        await page.screenshot({ path: join(root, 'docs/img/form-page.png'), fullPage: true })
      assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
    })

    await test(`${label}: see a refused origin on the Overview and add it`, async () => {
      const refused = await signUp(`refused@${formId}.example`, site)
      assert(refused.status === 403, `a site not among the origins is refused: ${refused.status}`)
      await open('Overview')
      const line = page.locator(`.refused-origin[data-origin="${site}"]`)
      assert(await line.isVisible(), 'the refusal is listed')
      assert(/Refused from https:\/\/www\./.test((await line.textContent()) ?? ''), 'in words')
      await Promise.all([
        page.waitForURL(`${RELAY}/admin/forms/${formId}?notice=origin_added`),
        line.locator('button:has-text("Add to this form\'s origins")').click(),
      ])
      const accepted = await signUp(`accepted@${formId}.example`, site)
      assert([200, 202].includes(accepted.status), `now accepted: ${accepted.status}`)
    })

    await test(`${label}: retry a failed sign-up from the Overview`, async () => {
      // Config drift: the form's list is deleted "in Constant Contact" (the sandbox).
      await page.goto(`${RELAY}/__sandbox`)
      await page.click(`[data-sandbox-list="${SECOND_LIST}"] button.danger`)
      const email = `drift@${formId}.example`
      const answer = await signUp(email, site)
      assert([502, 202].includes(answer.status), `refused or queued: ${answer.status}`)
      await waitFor(async () => {
        await page.goto(`${RELAY}/admin`)
        return page.isVisible('[data-dead-letter]')
      }, 'the failed sign-up on the Overview')
      await fitsWidth()
      const item = page.locator('[data-dead-letter]').first()
      const words = (await item.textContent()) ?? ''
      assert(/a list your account no longer has/.test(words), `the cause in words: ${words}`)
      assert(/1 attempt/.test(words), `the attempts: ${words}`)
      assert(
        (await item.locator('a:has-text("Fix it in the form’s Settings")').getAttribute('href')) ===
          `/admin/forms/${formId}/edit`,
        'a link to the form’s Settings'
      )
      // Delete asks first: its button is folded away.
      assert(!(await item.locator('button:has-text("Delete it for good")').isVisible()), 'folded')
      // The owner fixes the cause, then clicks Retry.
      await page.goto(`${RELAY}/__sandbox`)
      await page.click(`[data-sandbox-list="${SECOND_LIST}"] button:has-text("Restore")`)
      await page.goto(`${RELAY}/admin`)
      await Promise.all([
        page.waitForURL(`${RELAY}/admin?notice=retrying`),
        page.locator('[data-dead-letter] button:has-text("Retry")').first().click(),
      ])
      await waitFor(async () => {
        await page.goto(`${RELAY}/admin`)
        return page.isVisible(`[data-sandbox-contact="${email}"]`)
      }, 'the retried sign-up to reach the sandbox')
    })

    await test(`${label}: every section fits the screen; sign out from the navigation`, async () => {
      for (const section of ['Forms', 'Activity', 'Connection', 'Webhooks', 'Overview']) {
        await open(section)
      }
      await page.goto(`${RELAY}/admin/forms/${formId}/signups`)
      await fitsWidth()
      await page.goto(`${RELAY}/admin/forms/${formId}/edit`)
      await fitsWidth()
      await Promise.all([
        page.waitForURL(`${RELAY}/admin`),
        page.click('nav button:has-text("Sign out")'),
      ])
      assert(await page.isVisible('input[name=token]'), 'back to the sign-in form')
      assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
    })
    await owner.close()
  }
}
