/**
 * What the owner decides about each sign-up (issue 19): the owner makes a form in the editor with
 * lists the visitor may tick, a tag and a consent statement, picked by name (JavaScript off); visitors
 * tick two lists and the consent box on the demo site, whose page holds the form's own snippet
 * (GET /admin/api/forms/:formId/snippet), with JavaScript and without; field errors for the lists
 * with JavaScript, and the built-in page without it (30-accessibility.mjs checks these pages
 * with axe-core). Writes the editor's pictures in docs/img/editor-*.png.
 */
import { join } from 'node:path'

const STATEMENT = 'I agree to receive the bakery’s emails. I can unsubscribe at any time.'

export async function run({ browser, test, assert, waitFor, watchCsp, signIn, root, RELAY, DEMO }) {
  const owner = await browser.newContext({
    javaScriptEnabled: false,
    viewport: { width: 900, height: 1400 },
  })
  const page = await owner.newPage()
  const cspViolations = []
  watchCsp(page, cspViolations)

  /** What /admin shows of a sandbox contact: its lists and its tags, by name. */
  async function contact(email) {
    await page.goto(`${RELAY}/admin`)
    const line = await page.textContent(`[data-sandbox-contact="${email}"]`).catch(() => null)
    if (!line) return null
    const [lists, tags] = line.split('lists: ')[1].split(' · tags: ')
    return { lists: lists.trim(), tags: tags?.trim() ?? '' }
  }
  const listsOf = async (email) => (await contact(email))?.lists ?? null

  await test('the owner offers lists to tick, a tag and a consent box, picked by name in the editor', async () => {
    await signIn(page)
    await page.goto(`${RELAY}/admin/forms/new`)
    await page.fill('#f-id', 'choices')
    // The parts a new form does not use yet are folded: the owner opens each.
    for (const part of [
      'Lists the visitor may tick',
      'Tags every contact gets',
      'Consent',
      'Where sign-ups came from',
    ])
      await page.click(`summary:has-text("${part}")`)
    await page.check('#f-optional_lists label.choice:has-text("Sandbox newsletter") input')
    await page.check('#f-optional_lists label.choice:has-text("Sandbox product updates") input')
    await page.check('#f-tags label.choice:has-text("Sandbox website") input')
    await page.fill('#f-consent_text', STATEMENT)
    await page.check('#f-consent_required')
    await page.fill('#f-consent_privacy_url', `${DEMO}/privacy.html`)
    await page.selectOption('[id="f-capture.page"]', { label: 'Source' })
    await page.fill('#f-origins', DEMO)
    await Promise.all([
      page.waitForURL(`${RELAY}/admin/forms/editor#preview`),
      page.click('button[value=preview]'),
    ])
    const preview = page.locator('.preview form[data-ctct-relay]')
    assert(
      (await preview.locator('fieldset legend').textContent()) === 'Lists to join',
      'the preview groups the lists under a legend'
    )
    assert(
      await page.isVisible(`.preview label:has-text("${STATEMENT}")`),
      'the preview shows the consent statement'
    )
    // The README's pictures, one per part of the editor.
    for (const [part, file] of [
      ['#f-optional_lists', 'editor-optional-lists.png'],
      ['#f-tags', 'editor-tags.png'],
      ['#f-consent', 'editor-consent.png'],
      ['#f-capture', 'editor-capture.png'],
    ])
      await page.locator(part).screenshot({ path: join(root, 'docs/img', file) })
    await Promise.all([
      page.waitForURL(/\/admin\/forms\/choices\?notice=form_saved/),
      page.click('button[value=save]'),
    ])
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  await test('a visitor with JavaScript ticks two lists and the consent box', async () => {
    const visitor = await browser.newContext({ viewport: { width: 700, height: 900 } })
    const demo = await visitor.newPage()
    await demo.goto(`${DEMO}/form.html?form=choices`)
    await demo.fill('input[name=email]', 'two-lists@example.com')
    await demo.check('label:has-text("Sandbox newsletter") input[name=list]')
    await demo.check('label:has-text("Sandbox product updates") input[name=list]')
    await demo.check('input[name=consent]')
    await demo.click('button')
    await demo.waitForSelector('form[data-state=done]')
    await visitor.close()
    // Delivered at once (200) or queued (202) by the pacer: wait for it to reach the sandbox.
    await waitFor(
      async () => (await listsOf('two-lists@example.com')) !== null,
      'the sign-up to reach the sandbox'
    )
    assert(
      (await listsOf('two-lists@example.com')) === 'Sandbox newsletter, Sandbox product updates',
      `both lists: ${await listsOf('two-lists@example.com')}`
    )
    // The form's tag follows the delivery (a tagging, batched a moment later).
    await waitFor(
      async () => (await contact('two-lists@example.com'))?.tags === 'Sandbox website',
      'the contact to be tagged'
    )
  })

  await test('with JavaScript, no list ticked: the error shows in the lists’ group', async () => {
    const visitor = await browser.newContext()
    const demo = await visitor.newPage()
    await demo.goto(`${DEMO}/form.html?form=choices`)
    await demo.fill('input[name=email]', 'no-list@example.com')
    await demo.check('input[name=consent]')
    await demo.click('button')
    await demo.waitForSelector('form[data-state=error]')
    const note = await demo.textContent('fieldset [data-ctct-error=list]')
    assert(note === 'Choose at least one list.', `the note in the fieldset: ${note}`)
    assert(
      (await demo.getAttribute('input[name=list] >> nth=0', 'aria-invalid')) === 'true',
      'the boxes are marked invalid'
    )
    await visitor.close()
  })

  await test('a visitor without JavaScript ticks two lists and the box, and is thanked', async () => {
    const visitor = await browser.newContext({ javaScriptEnabled: false })
    const demo = await visitor.newPage()
    await demo.goto(`${DEMO}/form.html?form=choices`)
    await demo.fill('input[name=email]', 'no-js-lists@example.com')
    await demo.check('label:has-text("Sandbox newsletter") input[name=list]')
    await demo.check('label:has-text("Sandbox product updates") input[name=list]')
    await demo.check('input[name=consent]')
    await Promise.all([demo.waitForURL(`${RELAY}/subscribe/choices/thanks`), demo.click('button')])
    assert(await demo.isVisible('text=Thanks'), 'the built-in thank-you page')
    await visitor.close()
    await waitFor(
      async () => (await listsOf('no-js-lists@example.com')) !== null,
      'the sign-up to reach the sandbox'
    )
    assert(
      (await listsOf('no-js-lists@example.com')) === 'Sandbox newsletter, Sandbox product updates',
      'both lists'
    )
  })

  await test('without JavaScript, no list ticked: the built-in page says what to tick', async () => {
    const visitor = await browser.newContext({ javaScriptEnabled: false })
    const demo = await visitor.newPage()
    await demo.goto(`${DEMO}/form.html?form=choices`)
    await demo.fill('input[name=email]', 'no-js-none@example.com')
    await demo.check('input[name=consent]')
    await Promise.all([demo.waitForURL(`${RELAY}/subscribe/choices`), demo.click('button')])
    const text = await demo.textContent('main')
    assert(
      text?.includes('Lists to join: Choose at least one list.'),
      `the page names the lists and what to do: ${text}`
    )
    await visitor.close()
  })

  await owner.close()
}
