/**
 * Consent receipts (issue #19): a sign-up that carries consent is answered 200 or 202 only once
 * its receipt is stored, and a dead letter keeps one too; refusals and absorbed repeats write
 * none. The owner reads them by address, exports them as CSV, erases them; the cron purges them
 * after CONSENT_RETENTION_DAYS. Time is virtual.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { WHOLE_NUMBER_SETTINGS } from '../../src/core/app/config.ts'
import type { ConsentGiven } from '../../src/core/consent/receipt.ts'
import { sha256Hex } from '../../src/core/lib/hash-key.ts'
import { DAY_MS } from '../../src/core/metrics/metrics.ts'
import type { Submission } from '../../src/core/outbox/submit.ts'
import { Relay } from '../../src/worker.ts'
import { cc, clock } from '../support/edge.ts'
import {
  call,
  connectedWithSettledOutbox,
  cron,
  ORIGIN,
  OWNER,
  relay,
  runOutbox,
  signIn,
} from '../support/helpers.ts'
import { LIST_1 } from '../support/network.ts'

const STATEMENT = 'I agree to receive the newsletter. I can unsubscribe at any time.'

let n = 0

/** A validated sign-up to the newsletter, as the app hands it to the object, with consent. */
async function signup(email: string, over: Partial<Submission> = {}): Promise<Submission> {
  const consent: ConsentGiven = {
    text: STATEMENT,
    textSha256: await sha256Hex(STATEMENT),
    origin: 'https://site.test',
    page: 'https://site.test/join',
    network: '203.0.113.7',
  }
  return {
    formId: 'newsletter',
    payload: { email_address: email, list_memberships: [LIST_1] },
    emailHash: `hash:${email}`,
    clientKey: `client:${++n}`,
    digest: `digest:${email}`,
    consent,
    ...over,
  }
}

type ReceiptRow = { email: string; given_at: number; text: string }

/** The receipts stored, read straight from SQLite: no service call that could wait for writes. */
const storedReceipts = (sql: SqlStorage, email: string) =>
  sql
    .exec<ReceiptRow>(
      `SELECT r.email, r.given_at, t.text FROM consent_receipts r
       JOIN consent_texts t ON t.id = r.text_id WHERE r.email = ?`,
      email
    )
    .toArray()

/**
 * Runs `body` in the deployment's object with a Relay built over its storage, as the runtime
 * builds it (deferred bookkeeping and all), so that what SQLite holds can be read in the very
 * turn a submission is answered, before any write deferred past the answer has run.
 */
function inTheObject<T>(body: (object: Relay, sql: SqlStorage) => Promise<T>): Promise<T> {
  return runInDurableObject(relay(), (_instance, state) =>
    body(new Relay(state, env), state.storage.sql)
  )
}

async function receiptsOf(email: string) {
  const res = await call(`/admin/api/consents?email=${encodeURIComponent(email)}`, {
    headers: OWNER,
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { receipts: Record<string, string | null>[] }).receipts
}

async function csv(query = '') {
  const res = await call(`/admin/api/consents.csv${query}`, { headers: OWNER })
  expect(res.status).toBe(200)
  return { res, lines: (await res.text()).split('\r\n').slice(0, -1) }
}

connectedWithSettledOutbox()

describe('a sign-up with consent is answered only once its receipt is stored', () => {
  it('200: the receipt is in SQLite when the answer leaves, the bookkeeping not yet', async () => {
    const email = 'inline@example.com'
    const at = clock.now()
    await inTheObject(async (object, sql) => {
      expect(await object.submit(await signup(email))).toEqual({ status: 'delivered' })
      // This turn, right after the answer: the deferred writes have not run, so a receipt
      // written among them would be missing here.
      const remembered = sql
        .exec('SELECT key FROM recent_submissions WHERE key = ?', `newsletter:hash:${email}`)
        .toArray()
      expect(remembered).toEqual([])
      expect(storedReceipts(sql, email)).toEqual([{ email, given_at: at, text: STATEMENT }])
    })
    expect(cc.contacts.has(email)).toBe(true)
  })

  it('an inline send: the receipt is stored before the contact reaches CC', async () => {
    const email = 'before-cc@example.com'
    let release = () => {}
    cc.heldUntil = new Promise<void>((resolve) => {
      release = resolve
    })
    try {
      await inTheObject(async (object, sql) => {
        const answer = object.submit(await signup(email))
        // CC has the request and holds its answer: the send is under way.
        for (let i = 0; i < 100 && cc.signupCalls.every((c) => c.body.email_address !== email); i++)
          await new Promise((resolve) => setTimeout(resolve, 0))
        expect(cc.signupCalls.some((c) => c.body.email_address === email)).toBe(true)
        // Already stored: a failed write after CC took the contact cannot leave it unrecorded.
        expect(storedReceipts(sql, email)).toHaveLength(1)
        release()
        expect(await answer).toEqual({ status: 'delivered' })
        expect(storedReceipts(sql, email)).toHaveLength(1)
      })
    } finally {
      cc.heldUntil = null
      release()
    }
  })

  it('202: the receipt is written with the queued item', async () => {
    cc.down = true
    const email = 'queued@example.com'
    await inTheObject(async (object, sql) => {
      expect(await object.submit(await signup(email))).toEqual({ status: 'queued' })
      expect(storedReceipts(sql, email)).toHaveLength(1)
    })
    cc.down = false
    await runOutbox()
    // Delivered later: still one receipt, given when the sign-up was accepted.
    expect(await receiptsOf(email)).toHaveLength(1)
  })

  it('a dead letter keeps its receipt: the owner may replay it', async () => {
    cc.signupFaults = ['400']
    const email = 'refused@example.com'
    await inTheObject(async (object, sql) => {
      expect(await object.submit(await signup(email))).toMatchObject({ status: 'rejected' })
      expect(storedReceipts(sql, email)).toHaveLength(1)
    })
  })

  it('a refusal that stores nothing writes no receipt', async () => {
    const email = 'limited@example.com'
    await inTheObject(async (object, sql) => {
      const client = { clientKey: 'one-network' }
      for (let i = 0; i < WHOLE_NUMBER_SETTINGS.SUBMIT_RATE_LIMIT_PER_MINUTE.fallback; i++) {
        await object.submit(await signup(`limit${i}@example.com`, client))
      }
      expect(await object.submit(await signup(email, client))).toMatchObject({
        status: 'rate_limited',
      })
      expect(storedReceipts(sql, email)).toEqual([])
    })
  })

  it('an absorbed repeat adds none; one that says more (consent) is stored with its own', async () => {
    const email = 'repeat@example.com'
    const without = await signup(email, { consent: undefined, digest: 'without-consent' })
    expect(await relay().submit(without)).toEqual({ status: 'delivered' })
    expect(await receiptsOf(email)).toEqual([])
    clock.advance(1000)
    const consented = await signup(email, { digest: 'with-consent' })
    expect(await relay().submit(consented)).toEqual({ status: 'delivered' })
    clock.advance(1000)
    expect(await relay().submit({ ...consented, clientKey: 'again' })).toEqual({
      status: 'duplicate',
      of: 'delivered',
    })
    expect(await receiptsOf(email)).toHaveLength(1)
  })
})

describe('through a visitor’s post (POST /subscribe/:formId)', () => {
  const SITE = 'https://consent.test'
  const WORDS = 'Yes, send me the newsletter. I can unsubscribe at any time.'
  const put = (text: string) =>
    call('/admin/api/forms/consenting', {
      method: 'PUT',
      headers: { ...OWNER, 'content-type': 'application/json' },
      body: JSON.stringify({
        lists: [LIST_1],
        origins: [SITE],
        consent: { text, required: false },
      }),
    })
  const post = (email: string, data: Record<string, unknown> = {}) =>
    call('/subscribe/consenting', {
      method: 'POST',
      headers: {
        origin: SITE,
        'content-type': 'application/json',
        'cf-connecting-ip': '198.51.100.23',
      },
      body: JSON.stringify({ email, ...data }),
    })

  it('a ticked box leaves a receipt of the words shown, where and when', async () => {
    expect((await put(WORDS)).status).toBe(201)
    const at = clock.now()
    const res = await post('Visitor@Consent.test', { consent: 'yes', _page: `${SITE}/join` })
    expect(res.status).toBe(200)
    expect(await receiptsOf('visitor@consent.test')).toEqual([
      {
        form: 'consenting',
        email: 'visitor@consent.test',
        given_at: new Date(at).toISOString(),
        text: WORDS,
        text_sha256: await sha256Hex(WORDS),
        origin: SITE,
        page: `${SITE}/join`,
        network: '198.51.100.23',
      },
    ])
  })

  it('none without the box; a repeat that ticks it is sent, with its receipt (202 too)', async () => {
    expect((await post('later@consent.test')).status).toBe(200)
    expect(await receiptsOf('later@consent.test')).toEqual([])
    // Within the duplicate window, and CC unavailable: stored, and answered 202 with its receipt.
    cc.down = true
    expect((await post('later@consent.test', { consent: 'yes' })).status).toBe(202)
    expect(await receiptsOf('later@consent.test')).toHaveLength(1)
    // The same again is absorbed: the first already has its receipt.
    expect((await post('later@consent.test', { consent: 'yes' })).status).toBe(202)
    expect(await receiptsOf('later@consent.test')).toHaveLength(1)
    cc.down = false
    await runOutbox()
  })

  it('new words for new receipts, even within the duplicate window; earlier ones keep theirs', async () => {
    expect((await put(WORDS)).status).toBe(200)
    expect((await post('words@consent.test', { consent: 'on' })).status).toBe(200)
    const NEW = 'Yes, send me the newsletter and event invitations.'
    expect((await put(NEW)).status).toBe(200)
    // Moments later: the same fields, but consent to other words is a sign-up of its own.
    expect((await post('words@consent.test', { consent: 'on' })).status).toBe(200)
    const texts = (await receiptsOf('words@consent.test')).map((r) => r.text)
    expect(texts).toEqual([NEW, WORDS])
    // The same words again are absorbed: the last one already has its receipt.
    expect((await post('words@consent.test', { consent: 'on' })).status).toBe(200)
    expect(await receiptsOf('words@consent.test')).toHaveLength(2)
  })
})

describe('GET /admin/api/consents', () => {
  it('lists an address’s receipts, newest first, in the documented shape', async () => {
    const email = 'shape@example.com'
    const first = clock.now()
    await relay().submit(await signup(email, { digest: 'one' }))
    clock.advance(60_000)
    await relay().submit(
      await signup(email, {
        digest: 'two',
        consent: {
          text: 'Newer words.',
          textSha256: await sha256Hex('Newer words.'),
          origin: null,
          page: null,
          network: '2001:db8:1:2::/64',
        },
      })
    )
    // Any spelling of the address, padded or not, finds them.
    expect(await receiptsOf(' Shape@EXAMPLE.com ')).toEqual([
      {
        form: 'newsletter',
        email,
        given_at: new Date(first + 60_000).toISOString(),
        text: 'Newer words.',
        text_sha256: await sha256Hex('Newer words.'),
        origin: null,
        page: null,
        network: '2001:db8:1:2::/64',
      },
      {
        form: 'newsletter',
        email,
        given_at: new Date(first).toISOString(),
        text: STATEMENT,
        text_sha256: await sha256Hex(STATEMENT),
        origin: 'https://site.test',
        page: 'https://site.test/join',
        network: '203.0.113.7',
      },
    ])
    expect(await receiptsOf('nobody@example.com')).toEqual([])
  })

  it('400 invalid_input for a missing or invalid address; 401 for anyone but the owner', async () => {
    for (const query of ['', '?email=', '?email=not-an-address']) {
      const res = await call(`/admin/api/consents${query}`, { headers: OWNER })
      expect(res.status).toBe(400)
      const body = (await res.json()) as { error: string; fields: Record<string, string> }
      expect(body.error).toBe('invalid_input')
      expect(Object.keys(body.fields)).toEqual(['email'])
    }
    const anonymous = await call('/admin/api/consents?email=a@example.com')
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { error: string }).error).toBe('unauthorized')
  })
})

describe('GET /admin/api/consents.csv', () => {
  it('exports the receipts of a period, oldest first, with a header row', async () => {
    // Noon tomorrow: nothing stored yet, and a second later is the same day.
    const start = clock.now() - (clock.now() % DAY_MS) + DAY_MS + DAY_MS / 2
    clock.set(start)
    const day = new Date(start).toISOString().slice(0, 10)
    await relay().submit(await signup('csv1@example.com'))
    clock.advance(1000)
    await relay().submit(
      await signup('csv2@example.com', {
        consent: {
          text: '=cmd|calc, "quoted"\nsecond line',
          textSha256: await sha256Hex('=cmd|calc, "quoted"\nsecond line'),
          origin: 'https://site.test',
          page: null,
          network: '203.0.113.8',
        },
      })
    )
    clock.set(start + 2 * DAY_MS)
    const { res, lines } = await csv(`?from=${day}&to=${day}`)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="ctct-relay-consents.csv"'
    )
    expect(lines[0]).toBe('form,email,given_at,text,text_sha256,origin,page,network')
    expect(lines[1]).toBe(
      `newsletter,csv1@example.com,${new Date(start).toISOString()},${STATEMENT},${await sha256Hex(STATEMENT)},https://site.test,https://site.test/join,203.0.113.7`
    )
    // Quoted, and kept from a spreadsheet's formulas: a leading ', as every export does.
    expect(lines.slice(2).join('\r\n')).toBe(
      `newsletter,csv2@example.com,${new Date(start + 1000).toISOString()},"'=cmd|calc, ""quoted""\nsecond line",${await sha256Hex('=cmd|calc, "quoted"\nsecond line')},https://site.test,,203.0.113.8`
    )
    // A date-time bound is exact: from the second receipt's millisecond on.
    const second = new Date(start + 1000).toISOString()
    expect((await csv(`?from=${second}`)).lines.slice(1).map((l) => l.split(',')[1])).toEqual([
      'csv2@example.com',
    ])
    expect((await csv(`?to=${day}T00:00:00Z`)).lines.slice(1)).not.toContainEqual(
      expect.stringContaining('csv1@example.com')
    )
  })

  it('streams any number of receipts, page after page', async () => {
    const at = clock.now()
    await runInDurableObject(relay(), (_instance, state) => {
      const sql = state.storage.sql
      sql.exec(`INSERT INTO consent_texts (sha256, text) VALUES ('bulk', 'Bulk.')`)
      for (let i = 0; i < 2500; i++) {
        sql.exec(
          `INSERT INTO consent_receipts (form_id, email, given_at, text_id, origin, page, network)
           SELECT 'bulk', ?, ?, id, NULL, NULL, '192.0.2.1' FROM consent_texts WHERE sha256 = 'bulk'`,
          `bulk${i}@example.com`,
          at + Math.floor(i / 3) // three to a millisecond: pages split ties
        )
      }
    })
    const { lines } = await csv(`?from=${new Date(at).toISOString()}`)
    const emails = lines.slice(1).map((l) => l.split(',')[1])
    expect(emails).toEqual(Array.from({ length: 2500 }, (_, i) => `bulk${i}@example.com`))
    await runInDurableObject(relay(), (_instance, state) => {
      state.storage.sql.exec(`DELETE FROM consent_receipts WHERE form_id = 'bulk'`)
    })
  })

  it('400 invalid_input for a bound it cannot read, naming it', async () => {
    for (const [query, field] of [
      ['?from=2030-02-30', 'from'],
      ['?to=tomorrow', 'to'],
      ['?from=2030-01-02&to=2030-01-01T00:00Z', 'to'],
    ]) {
      const res = await call(`/admin/api/consents.csv${query}`, { headers: OWNER })
      expect(res.status).toBe(400)
      const body = (await res.json()) as { error: string; fields: Record<string, string> }
      expect(body.error).toBe('invalid_input')
      expect(Object.keys(body.fields)).toEqual([field])
    }
  })
})

describe('DELETE /admin/api/consents', () => {
  it('erases one person’s receipts, and statements no receipt refers to any more', async () => {
    const only = 'A statement only erase@example.com was shown.'
    await relay().submit(
      await signup('erase@example.com', {
        consent: {
          text: only,
          textSha256: await sha256Hex(only),
          origin: null,
          page: null,
          network: '192.0.2.9',
        },
      })
    )
    await relay().submit(await signup('stays@example.com'))
    const res = await call('/admin/api/consents?email=ERASE@example.com', {
      method: 'DELETE',
      headers: OWNER,
    })
    expect(res.status).toBe(204)
    expect(await receiptsOf('erase@example.com')).toEqual([])
    expect(await receiptsOf('stays@example.com')).toHaveLength(1)
    const left = await runInDurableObject(relay(), (_instance, state) =>
      JSON.stringify(
        state.storage.sql.exec('SELECT * FROM consent_texts, consent_receipts').toArray()
      )
    )
    expect(left).not.toContain('erase@example.com')
    expect(left).not.toContain(only)
  })

  it('refuses a cross-site browser request; a script needs its Bearer token', async () => {
    const cookie = await signIn()
    const crossSite = await call('/admin/api/consents?email=stays@example.com', {
      method: 'DELETE',
      headers: { cookie, origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
    })
    expect(crossSite.status).toBe(403)
    expect(((await crossSite.json()) as { error: string }).error).toBe('cross_origin_request')
    expect(await receiptsOf('stays@example.com')).toHaveLength(1)
    const sameOrigin = await call('/admin/api/consents?email=stays@example.com', {
      method: 'DELETE',
      headers: { cookie, origin: ORIGIN },
    })
    expect(sameOrigin.status).toBe(204)
    expect(await receiptsOf('stays@example.com')).toEqual([])
  })
})

describe('the dashboard', () => {
  it('shows each form’s count of receipts, with the export', async () => {
    await relay().submit(await signup('dash1@example.com'))
    await relay().submit(await signup('dash2@example.com'))
    const counts = await runInDurableObject(relay(), (_instance, state) =>
      state.storage.sql
        .exec<{ receipts: number }>(
          `SELECT receipts FROM consent_counts WHERE form_id = 'newsletter'`
        )
        .one()
    )
    const cookie = await signIn()
    const formPage = async (id: string) =>
      (await call(`/admin/forms/${id}/signups`, { headers: { cookie } })).text()
    const card = await formPage('newsletter')
    expect(card).toMatch(
      new RegExp(
        `<p data-consent-receipts="${counts.receipts}">${counts.receipts} consent receipts kept for newsletter\\. <a href="/admin/api/consents.csv">`
      )
    )
    expect(await formPage('events')).toContain(
      '<p data-consent-receipts="0">0 consent receipts kept for events.'
    )
    // And the forms list counts them.
    const list = await (await call('/admin/forms', { headers: { cookie } })).text()
    const line = list.slice(list.indexOf('data-form="newsletter"'))
    expect(line.slice(0, 500)).toContain(`· ${counts.receipts} consent receipt(s)`)
  })
})

describe('retention', () => {
  it('keeps receipts CONSENT_RETENTION_DAYS (1825 by default), then the cron deletes them', async () => {
    const email = 'retained@example.com'
    const at = clock.now()
    await relay().submit(await signup(email))
    clock.set(at + 1824 * DAY_MS)
    await cron()
    expect(await receiptsOf(email)).toHaveLength(1)
    clock.set(at + 1826 * DAY_MS)
    await cron()
    expect(await receiptsOf(email)).toEqual([])
    const left = await runInDurableObject(relay(), (_instance, state) =>
      state.storage.sql.exec('SELECT COUNT(*) AS n FROM consent_receipts').one()
    )
    expect(left.n).toBe(0)
  })
})
