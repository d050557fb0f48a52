/**
 * axe-core (WCAG 2.2 A/AA and best practices) on every page an owner or a visitor meets: the
 * sign-in page, every owner page (Overview, Forms, a form's Snippet, Sign-ups, Settings and
 * Changes, Activity, Connection, every failed sign-up), the sandbox's consent page, the form
 * editor (also with problems), the built-in thank-you and error pages, the demo form showing field
 * errors, and a form with lists to tick and a consent box (its snippet, its errors, its editor),
 * and the webhooks page. Zero violations, each page in the state a person would see it.
 */
import { axeCheck, describeViolations } from '../../support/axe.mjs'

export async function run({ browser, test, assert, signIn, RELAY, DEMO, ADMIN_TOKEN }) {
  // A webhook endpoint, so that its page shows one (a loopback port nothing listens on: its
  // attempts fail, and the page lists them).
  const hook = await fetch(`${RELAY}/admin/api/webhooks/a11y`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['signup.delivered'] }),
  })
  assert(hook.status === 201, `webhook endpoint made: ${hook.status}`)
  const owner = await browser.newContext()
  const ownerPage = await owner.newPage()
  await signIn(ownerPage)
  const cookies = await owner.cookies()
  await owner.close()

  const pages = [
    ['the sign-in page', `${RELAY}/admin`, {}],
    ['the Overview', `${RELAY}/admin`, { cookies }],
    ['the forms list', `${RELAY}/admin/forms`, { cookies }],
    ['a form’s snippet', `${RELAY}/admin/forms/newsletter`, { cookies }],
    ['a form’s sign-ups', `${RELAY}/admin/forms/newsletter/signups`, { cookies }],
    ['a FORMS form’s settings', `${RELAY}/admin/forms/newsletter/settings`, { cookies }],
    ['a dashboard form’s changes', `${RELAY}/admin/forms/spring/changes`, { cookies }],
    ['the activity', `${RELAY}/admin/activity`, { cookies }],
    ['the connection', `${RELAY}/admin/connection`, { cookies }],
    ['every failed sign-up', `${RELAY}/admin/failed`, { cookies }],
    [
      'the consent page (the sandbox’s stand-in for CC’s)',
      `${RELAY}/__sandbox/authorize?client_id=sandbox-client&redirect_uri=${encodeURIComponent(`${RELAY}/oauth/callback`)}&state=s&scope=contact_data`,
      {},
    ],
    ['the sandbox’s lists', `${RELAY}/__sandbox`, { cookies }],
    ['the form editor', `${RELAY}/admin/forms/new`, { cookies }],
    [
      'the form editor, with problems to fix',
      `${RELAY}/admin/forms/new`,
      {
        cookies,
        prepare: async (page) => {
          await page.fill('#f-id', 'not valid!')
          await page.fill('#f-origins', 'not an origin')
          await Promise.all([page.waitForLoadState(), page.click('button[value=save]')])
          await page.waitForSelector('[role=alert]')
        },
      },
    ],
    [
      'a test sign-up’s answer',
      `${RELAY}/admin/forms/newsletter`,
      {
        cookies,
        prepare: async (page) => {
          await page.fill('[data-form=newsletter] input[name=email]', 'owner@example.com')
          await Promise.all([
            page.waitForURL(/\/admin\/forms\/newsletter\/test/),
            page.click('[data-form=newsletter] button:has-text("Send test")'),
          ])
        },
      },
    ],
    [
      'the form editor, with optional lists, a consent statement and capture',
      `${RELAY}/admin/forms/choices/edit`,
      { cookies },
    ],
    [
      'the form editor, with standard fields asked for, in French',
      `${RELAY}/admin/forms/lettre-de-printemps/edit`,
      { cookies },
    ],
    ['a snippet with lists to tick and a consent box', `${DEMO}/form.html?form=choices`, {}],
    [
      'that snippet showing the lists’ error',
      `${DEMO}/form.html?form=choices`,
      {
        prepare: async (page) => {
          await page.fill('input[name=email]', 'a11y-lists@example.com')
          await page.check('input[name=consent]')
          await page.click('button')
          await page.waitForSelector('form[data-state=error] [data-ctct-error=list]')
        },
      },
    ],
    [
      'the built-in error page saying what to tick',
      `${DEMO}/form.html?form=choices`,
      {
        prepare: async (page) => {
          await page.fill('input[name=email]', 'a11y-tick@example.com')
          await page.check('input[name=consent]')
          await Promise.all([
            page.waitForURL(/\/subscribe\/choices$/),
            page.evaluate(() => document.querySelector('form')?.submit()),
          ])
          await page.waitForSelector('text=Choose at least one list.')
        },
      },
    ],
    ['the webhooks page, with an endpoint', `${RELAY}/admin/webhooks`, { cookies }],
    ['the built-in thank-you page', `${RELAY}/subscribe/newsletter/thanks`, {}],
    ['the built-in thank-you page, in French', `${RELAY}/subscribe/spring/thanks`, {}],
    [
      'the built-in error page, with field errors',
      `${DEMO}/?form=spring`,
      {
        // A plain form post, as a browser with JavaScript off sends it: form.submit() goes
        // around the embed script's submit handler.
        prepare: async (page) => {
          // 51 characters: a valid address, one longer than sign_up_form takes.
          await page.fill('input[name=email]', `${'x'.repeat(39)}@example.com`)
          await Promise.all([
            page.waitForURL(/\/subscribe\/spring$/),
            page.evaluate(() => document.querySelector('form')?.submit()),
          ])
          await page.waitForSelector('text=Höchstens 50 Zeichen.')
        },
      },
    ],
    [
      'the demo form showing field errors',
      DEMO,
      {
        prepare: async (page) => {
          await page.fill('input[name=email]', 'long@example.com')
          await page.fill('input[name=first_name]', 'x'.repeat(60))
          await page.click('button')
          await page.waitForSelector('form[data-state=error] [data-ctct-error=first_name]')
        },
      },
    ],
  ]
  for (const [name, url, options] of pages) {
    await test(`axe: ${name}: no violations`, async () => {
      const violations = await axeCheck(browser, url, options)
      assert(violations.length === 0, describeViolations(violations))
    })
  }
}
