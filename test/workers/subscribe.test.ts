/**
 * POST /subscribe/:formId, the public form contract. Rejected cases assert that nothing reached
 * CC; accepted cases assert the exact JSON that CC received.
 */
import { describe, expect, it, vi } from 'vitest'
import { until } from '../support/arrivals.ts'
import { cc, clock, net } from '../support/edge.ts'
import { call, connectedWithSettledOutbox, outbox, runOutbox, status } from '../support/helpers.ts'
import { LIST_1, LIST_2, SOURCE_FIELD } from '../support/network.ts'

const SITE = 'https://site.test'
/** Every success body carries the visitor's message: this form's is the built-in English one. */
const THANKS = 'Thanks! You are signed up.'
let ip = 0

/** Each call comes from its own client IP, so the per-IP rate limit only matters where tested. */
function post(
  form: string,
  body: BodyInit,
  headers: Record<string, string> = {},
  clientIp = `203.0.113.${++ip % 250}`
) {
  return call(`/subscribe/${form}`, {
    method: 'POST',
    headers: { origin: SITE, 'cf-connecting-ip': clientIp, ...headers },
    body,
  })
}
const postJson = (form: string, data: unknown, headers: Record<string, string> = {}) =>
  post(form, JSON.stringify(data), { 'content-type': 'application/json', ...headers })
const postForm = (
  form: string,
  data: Record<string, string> | URLSearchParams,
  headers = {},
  clientIp?: string
) =>
  post(
    form,
    new URLSearchParams(data),
    { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    clientIp
  )

connectedWithSettledOutbox()

describe('accepted sign-ups', () => {
  it('JSON: 200 delivered, with exactly the profile-allowed fields sent to CC', async () => {
    const res = await postJson('newsletter', {
      email: '  Jane.Doe@Example.COM ',
      first_name: 'Jane',
      last_name: 'Doe',
      birthday_month: '7',
      birthday_day: 14,
      street: '1 Main St',
      city: 'Springfield',
      list: [LIST_2],
      custom: { source: 'homepage' },
      tags: ['vip'],
      permission_to_send: 'explicit',
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, status: 'delivered', message: THANKS })
    expect(res.headers.get('access-control-allow-origin')).toBe(SITE)
    expect(res.headers.get('vary')).toContain('Origin')
    expect(cc.signupCalls).toHaveLength(1)
    expect(cc.signupCalls[0].contentType).toBe('application/json')
    expect(cc.signupCalls[0].authorization).toMatch(/^Bearer eyJ/)
    expect(cc.signupCalls[0].body).toEqual({
      email_address: 'jane.doe@example.com',
      first_name: 'Jane',
      last_name: 'Doe',
      birthday_month: 7,
      birthday_day: 14,
      street_address: { kind: 'home', street: '1 Main St', city: 'Springfield' },
      list_memberships: [LIST_2],
      custom_fields: [{ custom_field_id: SOURCE_FIELD, value: 'homepage' }],
    })
  })

  it('HTML form post: 303 to the built-in thank-you page, all profile lists by default', async () => {
    const res = await postForm('newsletter', { email: 'html@example.com' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/subscribe/newsletter/thanks')
    expect(cc.signupCalls.map((c) => c.body)).toEqual([
      { email_address: 'html@example.com', list_memberships: [LIST_1, LIST_2] },
    ])
    const thanks = await call('/subscribe/newsletter/thanks')
    expect(thanks.status).toBe(200)
    expect(await thanks.text()).toContain('Thanks for signing up')
  })

  it('multipart with repeated list fields', async () => {
    const form = new FormData()
    form.append('email_address', 'multi@example.com')
    form.append('list', LIST_1)
    form.append('list', LIST_2)
    const res = await post('newsletter', form, { accept: 'application/json' })
    expect(res.status).toBe(200)
    expect(cc.signupCalls[0].body).toEqual({
      email_address: 'multi@example.com',
      list_memberships: [LIST_1, LIST_2],
    })
  })

  it('honours _next on one of the profile origins, and ignores a foreign one', async () => {
    const ok = await postForm('newsletter', { email: 'next@example.com', _next: `${SITE}/welcome` })
    expect(ok.headers.get('location')).toBe(`${SITE}/welcome`)
    const foreign = await postForm('newsletter', {
      email: 'next2@example.com',
      _next: 'https://evil.test/phish',
    })
    expect(foreign.status).toBe(303)
    expect(foreign.headers.get('location')).toBe('/subscribe/newsletter/thanks')
  })

  it('uses the profile success_url, accepting a Referer when Origin is absent', async () => {
    const res = await call('/subscribe/events', {
      method: 'POST',
      headers: {
        referer: 'https://events.test/page?x=1',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'email=events@example.com',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('https://events.test/thanks')
    expect(cc.signupCalls).toHaveLength(1)
  })

  it('honeypot filled: the same success answer, and nothing reaches CC', async () => {
    const res = await postJson('newsletter', { email: 'bot@example.com', _gotcha: 'http://spam' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, status: 'delivered', message: THANKS })
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('absorbs a repeat of the same email to the same form', async () => {
    const first = await postJson('newsletter', { email: 'twice@example.com' })
    const second = await postJson('newsletter', { email: 'TWICE@example.com' })
    expect([first.status, second.status]).toEqual([200, 200])
    expect(await second.json()).toEqual({ ok: true, status: 'delivered', message: THANKS })
    expect(cc.signupCalls).toHaveLength(1)
  })

  it('a double click: two concurrent posts of one email make one CC call, both succeed', async () => {
    const [a, b] = await Promise.all([
      postJson('newsletter', { email: 'double@example.com' }),
      postJson('newsletter', { email: 'double@example.com' }),
    ])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(cc.signupCalls).toHaveLength(1)
  })

  it('a repeat of a queued sign-up is answered "queued" (202), not "delivered"', async () => {
    cc.signupFaults = ['503']
    expect((await postJson('newsletter', { email: 'queued-twice@example.com' })).status).toBe(202)
    const again = await postJson('newsletter', { email: 'queued-twice@example.com' })
    expect(again.status).toBe(202)
    expect(await again.json()).toEqual({ ok: true, status: 'queued', message: THANKS })
    expect(cc.signupCalls).toHaveLength(1)
  })

  it('a 401 from CC refreshes once and retries once, from the outbox: the visitor is not held', async () => {
    cc.signupFaults = ['401']
    const res = await postJson('newsletter', { email: 'expired-token@example.com' })
    expect(res.status).toBe(202) // no valid token left: queued while the refresh runs
    await runOutbox()
    expect(net.refreshCalls()).toHaveLength(1)
    expect(cc.signupCalls).toHaveLength(2)
    expect(cc.signupCalls[0].authorization).not.toBe(cc.signupCalls[1].authorization)
  })

  it('logs the outcome without the email address or any token', async () => {
    const log = vi.spyOn(console, 'log')
    await postJson('newsletter', { email: 'private.person@example.com' })
    const lines = log.mock.calls.map((args) => String(args[0]))
    log.mockRestore()
    const line = lines.find((l) => l.includes('"msg":"submission"')) ?? ''
    expect(JSON.parse(line)).toMatchObject({ form: 'newsletter', outcome: 'delivered' })
    expect(JSON.parse(line).email_hash).toMatch(/^[0-9a-f]{24}$/)
    expect(lines.join('\n')).not.toContain('private.person')
    expect(lines.join('\n')).not.toContain('eyJ')
  })
})

describe('rejected sign-ups reach nothing', () => {
  it('400 invalid_input, one message per bad field', async () => {
    const res = await postJson('newsletter', {
      email: 'not-an-email',
      birthday_month: '2',
      list: ['00000000-0000-4000-8000-000000000000'],
      'custom.unknown': 'x',
      first_name: 'x'.repeat(51),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as {
      ok: boolean
      error: string
      fields: Record<string, string>
    }
    expect(body.ok).toBe(false)
    expect(body.error).toBe('invalid_input')
    expect(Object.keys(body.fields).sort()).toEqual(
      ['birthday_day', 'custom.unknown', 'email', 'first_name', 'list'].sort()
    )
    for (const message of Object.values(body.fields)) expect(message.length).toBeGreaterThan(5)
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('rejects header injection and control characters', async () => {
    const res = await postForm('newsletter', {
      email: 'a@example.com',
      first_name: 'Eve\r\nBcc: x',
    })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('first_name')
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('rejects bad encodings (malformed JSON, invalid UTF-8)', async () => {
    const json = await post('newsletter', '{"email": "a@example.com",}', {
      'content-type': 'application/json',
    })
    expect(json.status).toBe(400)
    const utf8 = await post(
      'newsletter',
      new Uint8Array([0x65, 0x6d, 0x61, 0x69, 0x6c, 0x3d, 0xff]),
      {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      }
    )
    expect(utf8.status).toBe(400)
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('403 origin_not_allowed for a foreign or missing origin', async () => {
    const foreign = await postJson(
      'newsletter',
      { email: 'a@example.com' },
      { origin: 'https://evil.test' }
    )
    expect(foreign.status).toBe(403)
    expect(((await foreign.json()) as { error: string }).error).toBe('origin_not_allowed')
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
    const none = await call('/subscribe/newsletter', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":"a@example.com"}',
    })
    expect(none.status).toBe(403)
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('404 unknown_form in HTML mode: the built-in page, not JSON', async () => {
    const res = await postForm('nope', { email: 'a@example.com' })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(await res.text()).toContain('This sign-up form does not exist.')
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('404 unknown_form', async () => {
    const res = await postJson('nope', { email: 'a@example.com' })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: string }).error).toBe('unknown_form')
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('413 payload_too_large, checked before parsing', async () => {
    const res = await postJson('newsletter', {
      email: 'a@example.com',
      first_name: 'x'.repeat(20_000),
    })
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: string }).error).toBe('payload_too_large')
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('415 unsupported_media_type', async () => {
    const res = await post('newsletter', 'email=a@example.com', {
      'content-type': 'text/plain',
      accept: 'application/json',
    })
    expect(res.status).toBe(415)
    expect(((await res.json()) as { error: string }).error).toBe('unsupported_media_type')
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('429 rate_limited with Retry-After, per client IP', async () => {
    const statuses: number[] = []
    let last: Response | undefined
    for (let i = 0; i < 11; i++) {
      last = await post(
        'newsletter',
        JSON.stringify({ email: `burst${i}@example.com` }),
        {
          'content-type': 'application/json',
        },
        '198.51.100.7'
      )
      statuses.push(last.status)
    }
    // The first four fit CC's 4/s and go inline; the rest are queued, then paced out.
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200])
    expect(statuses.slice(4, 10).every((s) => s === 202)).toBe(true)
    expect(statuses[10]).toBe(429)
    if (!last) throw new Error('no response')
    expect(((await last.json()) as { error: string }).error).toBe('rate_limited')
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0)
    // A plain HTML form from the same client: the built-in page, with Retry-After as a header.
    const page = await postForm('newsletter', { email: 'burst11@example.com' }, {}, '198.51.100.7')
    expect(page.status).toBe(429)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await page.text()).toContain('Too many sign-ups from your network.')
    await runOutbox()
    expect(cc.contacts.size).toBe(10)
    expect(cc.contacts.has('burst10@example.com')).toBe(false)
    // Another visitor is unaffected.
    expect((await postJson('newsletter', { email: 'other@example.com' })).status).toBe(200)
  })

  it('HTML mode: a built-in 4xx page that says what was wrong and links back', async () => {
    const res = await postForm('newsletter', { email: '' })
    expect(res.status).toBe(400)
    const page = await res.text()
    expect(page).toContain('Enter your email address')
    expect(page).toContain(`href="${SITE}"`)
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('HTML mode with error_url: 303 to error_url?error=<code>', async () => {
    const res = await call('/subscribe/events', {
      method: 'POST',
      headers: {
        origin: 'https://events.test',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'email=broken',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('https://events.test/oops?error=invalid_input')
    expect(cc.signupCalls).toHaveLength(0)
  })
})

describe('Turnstile (fake siteverify)', () => {
  it('verifies server-side with the secret, an idempotency key, hostname and action', async () => {
    const res = await postJson('protected', {
      email: 'human@example.com',
      'cf-turnstile-response': 'pass-token',
    })
    expect(res.status).toBe(200)
    expect(net.siteverifyCalls).toHaveLength(1)
    const form = net.siteverifyCalls[0]
    expect(form.get('secret')).toBe('test-turnstile-secret')
    expect(form.get('response')).toBe('pass-token')
    expect(form.get('idempotency_key')).toMatch(/^[0-9a-f-]{36}$/)
    expect(cc.signupCalls).toHaveLength(1)
  })

  it.each(['wrong-host', 'wrong-action', 'bad-token', undefined])(
    'fails closed on %s: 403 challenge_failed and nothing forwarded',
    async (token) => {
      const res = await postJson('protected', {
        email: 'bot@example.com',
        'cf-turnstile-response': token,
      })
      expect(res.status).toBe(403)
      expect(((await res.json()) as { error: string }).error).toBe('challenge_failed')
      expect(cc.signupCalls).toHaveLength(0)
    }
  )
})

describe('CORS preflight', () => {
  it('answers only the profile origins, echoing the origin with Vary: Origin', async () => {
    const ok = await call('/subscribe/newsletter', {
      method: 'OPTIONS',
      headers: { origin: SITE, 'access-control-request-method': 'POST' },
    })
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe(SITE)
    expect(ok.headers.get('vary')).toContain('Origin')
    const bad = await call('/subscribe/newsletter', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    })
    expect(bad.status).toBe(403)
    expect(bad.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('CC answers', () => {
  it('400 → 502 to the visitor (never "thanks"), a dead letter and an alert for the owner', async () => {
    cc.signupFaults = ['400']
    const res = await postJson('newsletter', { email: 'drift@example.com' })
    expect(res.status).toBe(502)
    expect(((await res.json()) as { error: string }).error).toBe('delivery_failed')
    expect(net.alertEvents()).toEqual(['dead_letter'])
    expect(JSON.stringify(net.alerts)).not.toContain('drift@')
    // The visitor was told it failed, so trying again is not absorbed as a duplicate.
    expect((await postJson('newsletter', { email: 'drift@example.com' })).status).toBe(200)
  })

  it('503 → 202 queued (stored durably), never 200', async () => {
    cc.signupFaults = ['503']
    const res = await postJson('newsletter', { email: 'later@example.com' })
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ ok: true, status: 'queued', message: THANKS })
  })
})

/** A JSON sign-up of `fields`, each from its own client. */
function submitFields(fields: Record<string, unknown>) {
  return postJson('newsletter', fields)
}

const sentNames = (email: string) =>
  cc.signupCalls.filter((c) => c.body.email_address === email).map((c) => c.body.first_name)

let netEmails = 0

/** A JSON sign-up from the client address `ip`. */
function submitFrom(ip: string) {
  return post(
    'newsletter',
    JSON.stringify({ email: `net${++netEmails}@example.com` }),
    { 'content-type': 'application/json' },
    ip
  )
}

// The duplicate window keeps newer data (issue #13 item 7): within DUPLICATE_WINDOW_SECONDS only
// a repeat that says the same is absorbed; one whose fields differ is sent, after the earlier
// one, so Constant Contact ends up with the newer values. Nobody can pin a wrong name on someone's
// address by signing it up first.

describe('within the duplicate window', () => {
  it('a repeat with other fields is sent and wins; an identical repeat is absorbed', async () => {
    const email = 'victim@example.com'
    expect((await submitFields({ email, first_name: 'Wrong' })).status).toBe(200)
    // The owner of the address signs up with their real name a minute later.
    expect((await submitFields({ email: 'VICTIM@example.com', first_name: 'Real' })).status).toBe(
      200
    )
    expect(sentNames(email)).toEqual(['Wrong', 'Real'])
    expect(cc.contacts.get(email)?.body.first_name).toBe('Real')
    // The same again (however the fields are ordered): absorbed, answered as the last one was.
    const again = await call('/subscribe/newsletter', {
      method: 'POST',
      headers: { origin: 'https://site.test', 'content-type': 'application/json' },
      body: `{"first_name":"Real","email":"${email}"}`,
    })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ ok: true, status: 'delivered', message: THANKS })
    expect(sentNames(email)).toEqual(['Wrong', 'Real'])
    // Back to the first version: it differs from the last one sent, so it is sent too.
    expect((await submitFields({ email, first_name: 'Wrong' })).status).toBe(200)
    expect(cc.contacts.get(email)?.body.first_name).toBe('Wrong')
  })

  it('a change to a queued sign-up goes into its item: merged, newer values kept, sent once', async () => {
    cc.down = true
    const email = 'queued-change@example.com'
    expect((await submitFields({ email, first_name: 'Old', list: [LIST_1] })).status).toBe(202)
    const reached = cc.signupCalls.length
    const change = await submitFields({ email, first_name: 'New', list: [LIST_2] })
    expect(change.status).toBe(202)
    expect(await change.json()).toEqual({ ok: true, status: 'queued', message: THANKS })
    // Not sent ahead of the queued one (the older one, delivered later, would overwrite it).
    expect(cc.signupCalls).toHaveLength(reached)
    expect((await outbox()).pending).toBe(1)
    cc.down = false
    await runOutbox()
    expect(cc.contacts.get(email)?.body).toEqual({
      email_address: email,
      first_name: 'New',
      list_memberships: [LIST_1, LIST_2],
    })
    expect(sentNames(email).at(-1)).toBe('New')
  })

  it('a double click that changed a field in between: both sent, in order, the newer last', async () => {
    const email = 'double-change@example.com'
    const held = net.hold()
    const first = submitFields({ email, first_name: 'Frist' })
    await until(() => sentNames(email).length === 1, 'the first to reach CC')
    held.stop() // later requests are answered; the first stays in flight
    const second = submitFields({ email, first_name: 'First' })
    // The second waits for the first rather than racing it to CC.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0))
    expect(sentNames(email)).toEqual(['Frist'])
    held.release()
    expect([(await first).status, (await second).status]).toEqual([200, 200])
    expect(sentNames(email)).toEqual(['Frist', 'First'])
    expect(cc.contacts.get(email)?.body.first_name).toBe('First')
  })

  it('an identical double click still makes one call to CC', async () => {
    const [a, b] = await Promise.all([
      submitFields({ email: 'same-twice@example.com', first_name: 'Same' }),
      submitFields({ email: 'same-twice@example.com', first_name: 'Same' }),
    ])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(sentNames('same-twice@example.com')).toEqual(['Same'])
  })
})

// Per-network client limits (issue #13 item 2): SUBMIT_RATE_LIMIT_PER_MINUTE (10 here) is one
// budget per IPv4 address and per IPv6 /64, whatever address inside the /64 a request comes from
// and however the address is written.

describe('one budget per network', () => {
  it('every address of one IPv6 /64 shares a budget; another /64 is unaffected', async () => {
    const statuses: number[] = []
    // Ten different addresses (and spellings) inside 2001:db8:7:1::/64.
    for (let i = 0; i < 10; i++) {
      const ip = i % 2 ? `2001:db8:7:1:${i}::${i + 1}` : `2001:DB8:0007:0001:0:0:${i}:abcd`
      statuses.push((await submitFrom(ip)).status)
    }
    expect(statuses.every((s) => s === 200 || s === 202)).toBe(true)
    const reached = cc.signupCalls.length
    const limited = await submitFrom('2001:db8:7:1:ffff:ffff:ffff:fffe')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBe(6) // one more every 60/10 s
    expect(cc.signupCalls).toHaveLength(reached)
    // The neighbouring /64 has its own budget.
    expect([200, 202]).toContain((await submitFrom('2001:db8:7:2::1')).status)
    // The budget refills at 10 a minute: one more after 6 s.
    clock.advance(6_000)
    expect([200, 202]).toContain((await submitFrom('2001:db8:7:1::99')).status)
    expect((await submitFrom('2001:db8:7:1::100')).status).toBe(429)
    await runOutbox()
    expect(cc.contacts.size).toBe(12)
  })

  it('an IPv4-mapped IPv6 address is the IPv4 address it carries', async () => {
    for (let i = 0; i < 5; i++) expect((await submitFrom('192.0.2.44')).status).toBeLessThan(300)
    for (let i = 0; i < 5; i++)
      expect((await submitFrom('::ffff:192.0.2.44')).status).toBeLessThan(300)
    expect((await submitFrom('::FFFF:c000:022c')).status).toBe(429)
    expect((await submitFrom('192.0.2.45')).status).toBeLessThan(300)
    await runOutbox()
  })
})

describe('a slow token endpoint: visitors never wait for a refresh', () => {
  const expiresAt = async () => Date.parse(String((await status()).access_token_expires_at))

  /** Sign-ups sent together; each answer notes its virtual time. */
  function signups(prefix: string, count: number) {
    const answered: { status: number; at: number }[] = []
    const emails = Array.from({ length: count }, (_, i) => `${prefix}${i}@example.com`)
    const all = Promise.all(
      emails.map((email) =>
        postJson('newsletter', { email }).then((res) => {
          answered.push({ status: res.status, at: clock.now() })
        })
      )
    )
    return { emails, answered, all }
  }

  it('token expired, refresh held: every visitor is answered at once (queued), all delivered once it lands', async () => {
    clock.set((await expiresAt()) + 1000)
    const slow = net.hold({ tokenEndpointOnly: true }) // the refresh takes as long as the test says
    const sent = clock.now()
    const { emails, answered, all } = signups('slowtoken', 6)
    await until(() => answered.length === emails.length, 'every visitor to be answered') // times out without the fix
    await all
    expect(net.refreshCalls()).toHaveLength(1) // one refresh, however many visitors
    for (const a of answered) {
      expect(a.at - sent).toBeLessThan(5000)
      expect([200, 202]).toContain(a.status)
    }
    expect(cc.signupCalls).toHaveLength(0) // no valid token: nothing was sent with the expired one
    expect((await outbox()).pending).toBe(emails.length) // durably queued before the answers
    clock.advance(20_000) // the endpoint answers 20 s after the refresh left
    slow.release()
    await runOutbox()
    expect(net.refreshCalls()).toHaveLength(1)
    const delivered = cc.signupCalls.filter((c) => c.answered === 200 || c.answered === 201)
    expect(delivered.map((c) => c.body.email_address).sort()).toEqual([...emails].sort())
    expect(cc.signupCalls).toHaveLength(emails.length) // each once, with the new token
    expect((await outbox()).pending).toBe(0)
    expect((await status()).state).toBe('connected')
  })

  it('token due but valid, refresh held: visitors are delivered with it while the refresh runs', async () => {
    clock.set((await expiresAt()) - 30 * 60_000) // inside its 1 h margin
    const before = cc.tokenCalls.length
    const slow = net.hold({ tokenEndpointOnly: true })
    const sent = clock.now()
    const { emails, answered, all } = signups('duetoken', 3)
    await until(() => answered.length === emails.length, 'every visitor to be answered') // times out without the fix
    await all
    expect(answered.map((a) => a.status)).toEqual([200, 200, 200])
    expect(Math.max(...answered.map((a) => a.at)) - sent).toBeLessThan(5000)
    expect(net.refreshCalls()).toHaveLength(1)
    expect(cc.tokenCalls.length - before).toBe(1)
    const old = new Set(cc.signupCalls.map((c) => c.authorization))
    expect(old.size).toBe(1)
    slow.release()
    await until(async () => (await status()).refresh_pending_since === null, 'the refresh to land')
    // Stored before use: the next sign-up goes out with the new token, with no second refresh.
    expect((await postJson('newsletter', { email: 'afterrefresh@example.com' })).status).toBe(200)
    expect(old.has(cc.signupCalls.at(-1)?.authorization ?? null)).toBe(false)
    expect(net.refreshCalls()).toHaveLength(1)
  })
})
