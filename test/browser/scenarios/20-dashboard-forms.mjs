/**
 * Forms made in the dashboard: the owner creates one in the editor (JavaScript off: plain forms),
 * previews it, saves it, and a visitor on the demo site (`/?form=spring`: the form's own snippet,
 * in its language) signs up through it at once, with no restart in between. A French form made
 * from its name alone gets its id from the name, and refuses a post without its required first
 * name in French. Writes docs/img/form-editor.png.
 */
import { join } from 'node:path'

export async function run({
  browser,
  test,
  assert,
  watchCsp,
  signIn,
  root,
  RELAY,
  DEMO,
  ADMIN_TOKEN,
}) {
  const owner = await browser.newContext({
    javaScriptEnabled: false,
    viewport: { width: 1280, height: 900 },
  })
  const page = await owner.newPage()
  const cspViolations = []
  watchCsp(page, cspViolations)

  await test('the owner makes a form in the editor: lists and fields by name, a preview', async () => {
    await signIn(page)
    await page.click('nav a:has-text("Forms")')
    await page.click('a:has-text("New form")')
    await page.waitForURL(`${RELAY}/admin/forms/new`)
    await page.fill('#f-name', 'Spring bakery news')
    await page.fill('#f-id', 'spring')
    // A standard field, asked for but optional: the snippet carries it (checked on the demo).
    await page.selectOption('select[name="field.first_name"]', 'optional')
    await page.check('label.choice:has-text("Sandbox newsletter") input')
    await page.check('label.choice:has-text("Interested in baking classes") input')
    // A select field cannot be ticked: sign_up_form cannot set it, and the page says why.
    const select = page.locator('[data-field] :has-text("Favourite bread") input')
    assert(await select.isDisabled(), 'the single_select field is disabled')
    assert(
      await page.isVisible('text=single_select: sign_up_form cannot set it'),
      'the reason is shown'
    )
    await page.fill('#f-origins', DEMO)
    await page.selectOption('#f-language', 'fr')
    // A part the form does not use yet is folded: the owner opens it.
    assert(!(await page.isVisible('[name="message.success"]')), 'own wording folded at first')
    await page.click('summary:has-text("Your own wording")')
    await page.fill('[name="message.success"]', 'Merci, à très bientôt à la boulangerie !')
    await Promise.all([
      page.waitForURL(`${RELAY}/admin/forms/editor#preview`),
      page.click('button[value=preview]'),
    ])
    assert(page.url().endsWith('#preview'), `Preview keeps the owner at the preview: ${page.url()}`)
    const preview = page.locator('.preview form[data-ctct-relay]')
    assert((await preview.getAttribute('lang')) === 'fr', 'the preview is in French')
    assert(
      await page.isVisible('.preview label:has-text("Interested in baking classes")'),
      'the preview asks for the chosen field'
    )
    const snippet = await page.textContent('pre[role=region] code')
    assert(
      snippet?.includes(`${RELAY}/subscribe/spring`),
      `the snippet posts to the form: ${snippet}`
    )
    await page.screenshot({ path: join(root, 'docs/img/form-editor.png'), fullPage: true })
    await Promise.all([
      page.waitForURL(`${RELAY}/admin/forms/spring?notice=form_saved`),
      page.click('button[value=save]'),
    ])
    assert(await page.isVisible('text=Form saved.'), 'its page says so')
    assert(
      (await page.textContent('h1')) === 'Spring bakery news',
      'the form’s page is titled with its name'
    )
    await page.click('.form-tabs a:has-text("Changes")')
    assert(await page.isVisible('[data-audit=spring]'), 'the change is in the audit trail')
    await page.click('nav a:has-text("Forms")')
    assert(await page.isVisible('[data-form=spring] [data-source=dashboard]'), 'listed')
    assert(cspViolations.length === 0, `no CSP violations: ${cspViolations.join('; ')}`)
  })

  await test('a visitor signs up through the new form on the demo site, at once', async () => {
    const visitor = await browser.newContext({ viewport: { width: 700, height: 700 } })
    const demo = await visitor.newPage()
    await demo.goto(`${DEMO}/?form=spring`)
    // The demo site shows the form's own snippet, in French, on a page in French.
    assert((await demo.getAttribute('html', 'lang')) === 'fr', 'the page is in French')
    assert(
      await demo.isVisible('form[data-ctct-relay][lang=fr] label:has-text("Adresse e-mail")'),
      'the snippet’s label is in French'
    )
    assert(
      (await demo.textContent('form[data-ctct-relay] button'))?.trim() === 'S’inscrire',
      'the snippet’s button is in French'
    )
    assert(
      await demo.isVisible('form[data-ctct-relay] label:has-text("Interested in baking classes")'),
      'the snippet has the form’s own field'
    )
    assert(
      await demo.isVisible('label:has-text("Prénom") input[name=first_name]:not([required])'),
      'and the first name, optional, labelled in French'
    )
    await demo.fill('input[name=email]', 'spring@example.com')
    await demo.click('button')
    await demo.waitForSelector('form[data-state=done]')
    const status = await demo.textContent('[data-ctct-status]')
    assert(
      status === 'Merci, à très bientôt à la boulangerie !',
      `the form's own message: ${status}`
    )
    await visitor.close()
    await page.goto(`${RELAY}/admin`)
    assert(
      await page.isVisible('[data-sandbox-contact="spring@example.com"]'),
      'the sign-up reached (the sandbox’s) Constant Contact'
    )
  })

  await test('the owner edits the form; the next sign-up follows the change', async () => {
    await page.goto(`${RELAY}/admin/forms/spring`)
    await page.click('.form-tabs a:has-text("Settings")')
    await page.waitForURL(`${RELAY}/admin/forms/spring/edit`)
    await page.fill('[name="message.success"]', '')
    await page.selectOption('#f-language', 'de')
    await Promise.all([
      page.waitForURL(`${RELAY}/admin/forms/spring?notice=form_saved`),
      page.click('button[value=save]'),
    ])
    const visitor = await browser.newContext()
    const demo = await visitor.newPage()
    await demo.goto(`${DEMO}/?form=spring`)
    assert((await demo.getAttribute('html', 'lang')) === 'de', 'the page follows the form')
    // 51 characters: a valid address, one longer than sign_up_form takes.
    await demo.fill('input[name=email]', `${'x'.repeat(39)}@example.com`)
    await demo.click('button')
    await demo.waitForSelector('form[data-state=error]')
    const note = await demo.textContent('[data-ctct-error=email]')
    assert(note === 'Höchstens 50 Zeichen.', `in German now: ${note}`)
    await visitor.close()
  })

  await test('a French form named “Lettre de printemps” gets the id lettre-de-printemps', async () => {
    await page.goto(`${RELAY}/admin/forms/new`)
    await page.fill('#f-name', 'Lettre de printemps')
    await page.check('label.choice:has-text("Sandbox newsletter") input')
    await page.fill('#f-origins', DEMO)
    await page.selectOption('#f-language', 'fr')
    await page.selectOption('select[name="field.first_name"]', 'required')
    await Promise.all([
      page.waitForURL(`${RELAY}/admin/forms/editor#preview`),
      page.click('button[value=preview]'),
    ])
    const id = await page.inputValue('#f-id')
    assert(id === 'lettre-de-printemps', `the id proposed from the name: ${id}`)
    assert(
      await page.isVisible('.preview label:has-text("Prénom") input[name=first_name][required]'),
      'the preview asks for the first name, required, in French'
    )
    await Promise.all([
      page.waitForURL(`${RELAY}/admin/forms/lettre-de-printemps?notice=form_saved`),
      page.click('button[value=save]'),
    ])
  })

  await test('a visitor’s post without the required first name is refused, in French', async () => {
    // The owner's own HTML, without the snippet's `required` (which a browser would enforce),
    // posted by a browser with JavaScript off: the relay itself refuses it.
    const snippet = await (
      await fetch(`${RELAY}/admin/api/forms/lettre-de-printemps/snippet`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).text()
    const markup = snippet.slice(0, snippet.indexOf('<script')).replace(' required>', '>')
    assert(markup.includes('name="first_name"'), `the snippet asks for it: ${markup}`)
    const visitor = await browser.newContext({ javaScriptEnabled: false })
    const site = await visitor.newPage()
    await site.route(`${DEMO}/lettre.html`, (route) =>
      route.fulfill({
        contentType: 'text/html; charset=utf-8',
        body: `<!doctype html><html lang="fr"><title>Lettre</title><body>${markup}</body></html>`,
      })
    )
    await site.goto(`${DEMO}/lettre.html`)
    await site.fill('input[name=email]', 'lettre@example.com')
    const answer = site.waitForResponse(`${RELAY}/subscribe/lettre-de-printemps`)
    await site.click('button')
    assert((await answer).status() === 400, 'refused with 400')
    await site.waitForSelector('text=Remplissez ce champ.')
    assert(await site.isVisible('li:has-text("Prénom")'), 'the field named as the visitor read it')
    await visitor.close()
  })

  await test('the editor at 390 px: one column, nothing wider than the screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } })
    await phone.addCookies(await owner.cookies())
    const small = await phone.newPage()
    await small.goto(`${RELAY}/admin/forms/lettre-de-printemps/edit`)
    const width = await small.evaluate(() => document.documentElement.scrollWidth)
    assert(width <= 390, `no sideways overflow: ${width} px`)
    await phone.close()
  })

  await owner.close()
}
