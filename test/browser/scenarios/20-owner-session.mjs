/**
 * The owner's cookies in a real browser on http://localhost: Chromium keeps the `__Host-` session
 * and Connect cookies (Secure, on a secure context), a Connect can only be finished by the browser
 * that started it, and sign-out refuses a copied session cookie.
 */
export async function run({ browser, test, assert, signIn, RELAY }) {
  const owner = await browser.newContext({ javaScriptEnabled: false })
  const page = await owner.newPage()
  const cookie = (cookies, name) => cookies.find((c) => c.name === name)
  let copied = ''

  await test('Chromium stores the __Host- session cookie on http://localhost and sends it', async () => {
    await signIn(page)
    const session = cookie(await owner.cookies(RELAY), '__Host-ctct_relay_session')
    assert(session, 'the session cookie is stored')
    assert(session.secure && session.httpOnly, 'Secure and HttpOnly')
    assert(
      session.sameSite === 'Lax' && session.path === '/',
      `SameSite=Lax, Path=/: ${session.sameSite} ${session.path}`
    )
    assert(await page.isVisible('[data-state]'), 'the dashboard, so the browser sent it back')
    copied = `${session.name}=${session.value}`
    const status = await fetch(`${RELAY}/admin/status`, { headers: { cookie: copied } })
    assert(status.status === 200, `a copy of it works while signed in: ${status.status}`)
  })

  await test('a Connect is finished only by the browser that started it', async () => {
    await page.click('nav a:has-text("Connection")')
    await page.click('a[href="/oauth/authorize"]')
    await page.waitForURL(/\/__sandbox\/authorize/)
    const connect = cookie(await owner.cookies(RELAY), '__Host-ctct_relay_connect')
    assert(connect?.secure && connect.httpOnly, 'the Connect cookie is stored, Secure and HttpOnly')

    // Another browser opens the same consent link (state and all) and allows: refused.
    const other = await browser.newContext({ javaScriptEnabled: false })
    const stranger = await other.newPage()
    await stranger.goto(page.url())
    await stranger.click('button[value=allow]')
    await stranger.waitForURL(/\/oauth\/callback/)
    assert(await stranger.isVisible('text=Connection started elsewhere'), 'state_mismatch page')
    await other.close()

    // The owner's browser still finishes it.
    await page.click('button[value=allow]')
    await page.waitForURL(`${RELAY}/admin?notice=connected`)
    assert(await page.isVisible('[data-state=connected]'), 'connected again')
    const left = cookie(await owner.cookies(RELAY), '__Host-ctct_relay_connect')
    assert(!left, 'the callback deleted the Connect cookie')
  })

  await test('sign-out refuses the copied session cookie', async () => {
    await Promise.all([page.waitForURL(`${RELAY}/admin`), page.click('text=Sign out')])
    assert(await page.isVisible('input[name=token]'), 'back to the sign-in form')
    const status = await fetch(`${RELAY}/admin/status`, { headers: { cookie: copied } })
    assert(status.status === 401, `the copied cookie is refused: ${status.status}`)
  })

  await owner.close()
}
