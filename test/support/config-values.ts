/**
 * Configuration values tried through the real app, for the workerd and Deno suites alike
 * (runtime-neutral; issue #18 item 7). Twice a value the schema accepted was one the runtime
 * could not handle (SUBMIT_RATE_LIMIT_PER_MINUTE=45 on Deno KV, a success_url with a line
 * break), so these tests take values from the schema's own bounds, build a deployment with them
 * (each runtime's `WithConfigured`), and post sign-ups through its public route.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { WHOLE_NUMBER_SETTINGS } from '../../src/core/app/config.ts'
import { parseProfile } from '../../src/core/forms/forms.ts'
import { LABEL_KEYS, STANDARD_FIELDS } from '../../src/core/signup/form-fields.ts'
import { LANGUAGES, MESSAGE_KEYS } from '../../src/core/signup/visitor-text.ts'
import type { CcModel } from '../../src/sandbox/model.ts'
import { JOINED_FIELD, LIST_1, LIST_2, LIST_3, SOURCE_FIELD } from './network.ts'

/** A connected deployment built with the configuration under test. */
export interface ConfiguredRelay {
  /** A request to its app, from the client address `ip`. */
  call(path: string, init: RequestInit, ip: string): Promise<Response>
  /** Runs the outbox at each wake-up it asks for (the runtime's alarm or timer), until none. */
  drain(): Promise<void>
  /** Its Constant Contact, to see what reached it. */
  cc: CcModel
  /** The outbox's figures from /admin/status. */
  outbox(): Promise<{ pending: number; dead: number }>
  /** The headers that make a request the owner's (Bearer ADMIN_TOKEN). */
  owner: Record<string, string>
}

/** Runs `run` against a fresh deployment with `overrides` over the suite's bindings. */
export type WithConfigured = (
  overrides: Record<string, string>,
  run: (relay: ConfiguredRelay) => Promise<void>
) => Promise<void>

/** JSON, as a script posts; or a plain HTML form's post (no JS). */
export type Mode = 'json' | 'html'

/** POST /subscribe/:form from `origin`, as a script or as a plain form. */
export function postSignup(
  relay: Pick<ConfiguredRelay, 'call'>,
  form: string,
  fields: Record<string, string>,
  options: { origin: string; ip: string; mode: Mode; headers?: Record<string, string> }
): Promise<Response> {
  const json = options.mode === 'json'
  return relay.call(
    `/subscribe/${form}`,
    {
      method: 'POST',
      headers: {
        ...options.headers,
        origin: options.origin,
        'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
        ...(json ? {} : { accept: 'text/html' }),
      },
      body: json ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
    },
    options.ip
  )
}

/** An accepted sign-up's answer: 200 delivered or 202 queued (JSON), 303 onwards (a plain form). */
function isAccepted(res: Response, mode: Mode): boolean {
  return mode === 'json' ? res.status === 200 || res.status === 202 : res.status === 303
}

/**
 * Nothing accepted is lost: after a drain, each address is at CC, or still in the outbox (a
 * quota of 1 parks the rest until midnight UTC), and the outbox holds no more than those.
 */
async function assertNoneLost(relay: ConfiguredRelay, accepted: string[]): Promise<void> {
  await relay.drain()
  const missing = accepted.filter((email) => !relay.cc.contacts.has(email))
  const { pending, dead } = await relay.outbox()
  assert.equal(dead, 0, 'no accepted sign-up became a dead letter')
  assert.equal(pending, missing.length, `at CC or waiting in the outbox: ${missing.join(', ')}`)
}

/**
 * SUBMIT_RATE_LIMIT_PER_MINUTE values that the config accepts, several of which do not divide
 * 60,000 ms (a budget then refills every 1,333.3… ms at 45): its bounds, primes, and 45.
 */
export const RATE_LIMITS = [1, 7, 45, 59, 61, 97, 1_000, 9_999, 10_000]

let clients = 0

/**
 * With SUBMIT_RATE_LIMIT_PER_MINUTE = `perMinute`: a network's first sign-ups (up to 12 of them)
 * are accepted, in both modes; at a small limit the next one in the same minute is refused with
 * 429 and the whole seconds until its budget has room again; nothing accepted is lost.
 */
export async function rateLimitHolds(relay: ConfiguredRelay, perMinute: number): Promise<void> {
  const ip = `203.0.113.${++clients % 250}`
  const accepted: string[] = []
  const burst = Math.min(perMinute, 12)
  for (let i = 0; i < burst; i++) {
    const mode: Mode = i % 2 ? 'html' : 'json'
    const email = `limit${perMinute}-${i}@example.com`
    const res = await postSignup(relay, 'newsletter', { email }, { origin: SITE, ip, mode })
    assert.ok(isAccepted(res, mode), `${perMinute}/min, sign-up ${i + 1} (${mode}): ${res.status}`)
    accepted.push(email)
  }
  if (burst === perMinute) {
    const email = `limit${perMinute}-over@example.com`
    const res = await postSignup(relay, 'newsletter', { email }, { origin: SITE, ip, mode: 'json' })
    assert.equal(res.status, 429, `${perMinute}/min, one past the budget`)
    assert.equal(Number(res.headers.get('retry-after')), Math.ceil(60 / perMinute))
  }
  await assertNoneLost(relay, accepted)
}

/**
 * ALERT_WEBHOOK_URL set or not (`alerted`): a sign-up CC refuses is answered 502, and the visitor
 * reads that the owner was told only when an alert channel exists to tell them.
 */
export async function failedDeliverySaysWhoKnows(
  relay: ConfiguredRelay,
  alerted: boolean
): Promise<void> {
  relay.cc.signupFaults = ['400']
  const email = `refused-${alerted ? 'alerted' : 'quiet'}@example.com`
  const ip = `203.0.113.${++clients % 250}`
  const res = await postSignup(relay, 'newsletter', { email }, { origin: SITE, ip, mode: 'json' })
  assert.equal(res.status, 502)
  const { message } = (await res.json()) as { message: string }
  const plain = 'We could not complete your sign-up. Please try again later.'
  assert.equal(message, alerted ? `${plain} The site owner has been notified.` : plain)
}

/** The origin of the suites' `newsletter` form. */
export const SITE = 'https://site.test'

/**
 * Values for every whole-number setting, anywhere in the schema's bounds (its own table), often
 * at them; each key set or left to its default. As a `--var` or an environment variable: text.
 */
export const acceptedSettings: fc.Arbitrary<Record<string, string>> = fc.record(
  Object.fromEntries(
    Object.entries(WHOLE_NUMBER_SETTINGS).map(([key, { min, max }]) => [
      key,
      fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max })).map((n) => String(n)),
    ])
  ),
  { requiredKeys: [] }
) as fc.Arbitrary<Record<string, string>>

const ascii = fc.constantFrom('a', 'Z', '0', ' ', '/', '?', '=', '&', '#', '%', '<', '"', '~')
const wide = fc.constantFrom('é', 'ß', '✓', '漢', '😀')
const control = fc.constantFrom('\r', '\n', '\t', '\u0000', '\u2028', '\u007f')

/** Text as an owner might paste it: printable, now and then non-Latin. */
const pasted = (maxLength: number) =>
  fc.string({ unit: fc.oneof({ weight: 4, arbitrary: ascii }, wide), maxLength })

/**
 * `text`, or one time in `1 + clean` the same with a line break, a tab or another control
 * character put somewhere in it (which the schema must refuse).
 */
const tainted = (text: fc.Arbitrary<string>, clean: number) =>
  fc.oneof(
    { weight: clean, arbitrary: text },
    fc.tuple(text, control, fc.nat()).map(([t, c, at]) => {
      const i = at % (t.length + 1)
      return t.slice(0, i) + c + t.slice(i)
    })
  )

/** Hosts of URLs and origins: names, punycode, ports, IPv4 and IPv6 literals. */
const HOSTS = ['site.test', 'xn--bcher-kva.test', 'site.test:8443', '127.0.0.1:8080', '[::1]']

/**
 * A URL on one of HOSTS, with any path, query and fragment, mostly ASCII (a header can carry only
 * Latin-1, so the rest is percent-encoded on the way out), and often with a control character.
 */
const url = fc
  .tuple(
    fc.constantFrom('https://', 'http://'),
    fc.constantFrom(...HOSTS),
    fc.oneof({ weight: 3, arbitrary: fc.string({ unit: ascii, maxLength: 40 }) }, pasted(40))
  )
  .map(([scheme, host, rest]) => `${scheme}${host}/${rest}`)

/**
 * Form profiles, most of which the schema accepts, some it must refuse: every field of the
 * profile. Lists and custom fields are the account's own (the model of CC's): the schema cannot
 * know an account, and CC refusing an unknown one is an answer of its own (502, a dead letter).
 * Turnstile stays off: a sign-up would need a token (tested in subscribe.test.ts).
 */
export const profiles = fc
  .tuple(
    fc.record(
      {
        // Empty only with optional lists to tick (the schema refuses it otherwise, naming `lists`).
        lists: fc.subarray([LIST_1, LIST_2, LIST_3]),
        // Apart from `lists`, but for one profile in five (below): refused, naming the list.
        optional_lists: fc.subarray([LIST_1, LIST_2, LIST_3]),
        consent: fc.record(
          {
            // Line breaks are allowed in a statement; the other control characters are not.
            text: tainted(
              pasted(990).map((words) => `I agree ${words}`),
              10
            ),
            required: fc.boolean(),
            privacy_url: tainted(url, 10),
          },
          { requiredKeys: ['text', 'required'] }
        ),
        capture: fc.record(
          { page: fc.constant(SOURCE_FIELD), utm_campaign: fc.constant(SOURCE_FIELD) },
          { requiredKeys: [] }
        ),
        // The first is where the sign-ups come from.
        origins: fc
          .array(
            fc.constantFrom(...HOSTS).map((host) => `https://${host}`),
            { maxLength: 3 }
          )
          .map((more) => [SITE, ...more]),
        success_url: tainted(url, 2),
        error_url: tainted(url, 5),
        custom_fields: fc.dictionary(
          fc.stringMatching(/^[A-Za-z0-9_-]{1,50}$/),
          fc.constantFrom(SOURCE_FIELD, JOINED_FIELD),
          { maxKeys: 3 }
        ),
        turnstile: fc.constant(false),
        turnstile_site_key: fc.stringMatching(/^[A-Za-z0-9_-]{1,100}$/),
        honeypot: fc.oneof(
          fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
          fc.constantFrom('email', 'first_name', 'website', '_gotcha')
        ),
        name: tainted(pasted(100), 10),
        // Standard fields asked for, each required or optional; the sign-ups fill them all in.
        fields: fc.record(
          Object.fromEntries(
            STANDARD_FIELDS.map((key) => [key, fc.constantFrom('required', 'optional')])
          ) as Record<(typeof STANDARD_FIELDS)[number], fc.Arbitrary<string>>,
          { requiredKeys: [] }
        ),
        // The owner's labels for some of the snippet's fields, and for a custom field.
        labels: fc.dictionary(
          fc.oneof(fc.constantFrom(...LABEL_KEYS), fc.constant('custom.source')),
          tainted(pasted(60), 12),
          { maxKeys: 3 }
        ),
        language: fc.constantFrom(...LANGUAGES),
        // A few of the owner's own sentences.
        messages: fc
          .record(
            Object.fromEntries(MESSAGE_KEYS.map((key) => [key, tainted(pasted(80), 12)])) as Record<
              (typeof MESSAGE_KEYS)[number],
              fc.Arbitrary<string>
            >,
            { requiredKeys: [] }
          )
          .map((all) => Object.fromEntries(Object.entries(all).slice(0, 3))),
      },
      { requiredKeys: ['lists', 'origins'] }
    ),
    fc.nat(4)
  )
  .map(([profile, overlapUnless]) =>
    overlapUnless === 0 || !profile.optional_lists
      ? profile
      : {
          ...profile,
          optional_lists: profile.optional_lists.filter((id) => !profile.lists.includes(id)),
        }
  )

/** fast-check's settings here: one fixed seed (the same cases every run), and few of them. */
export const PROPERTY_RUNS = { seed: 18_07, numRuns: 80, endOnFailure: true }

let signups = 0

/**
 * The property: settings and a profile that the schema accepts make a deployment whose sign-ups,
 * as a script's JSON and as a plain form's post, are never answered 5xx and never lost; a profile
 * it refuses is refused with each bad field named.
 */
/** A visitor's answer to every standard field (form-fields.ts), as a person would type them. */
const EVERY_STANDARD_FIELD = {
  first_name: 'Ada',
  last_name: 'Lovelace',
  job_title: 'Engineer',
  company_name: 'Analytical Bakery',
  phone_number: '+1 555 0100',
  birthday_month: '12',
  birthday_day: '10',
  anniversary: '2020-06-15',
  street: '1 Main Street',
  city: 'Springfield',
  state: 'IL',
  postal_code: '62701',
  country: 'US',
}

export async function acceptedValuesWork(
  withConfigured: WithConfigured,
  settings: Record<string, string>,
  profile: Record<string, unknown>
): Promise<void> {
  const checked = parseProfile(profile)
  if (!checked.ok) {
    for (const [field, message] of Object.entries(checked.fields)) {
      assert.ok(field in profile || field.split('.')[0] in profile, `names a field: ${field}`)
      assert.ok(message.length > 10, `${field}: says what is wrong`)
    }
    return
  }
  await withConfigured(
    { ...settings, FORMS: JSON.stringify({ generated: profile }) },
    async (relay) => {
      const accepted: string[] = []
      const aliases = Object.keys(checked.profile.custom_fields ?? {})
      for (const mode of ['json', 'html'] as const) {
        const email = `p${++signups}@example.com`
        const fields: Record<string, string> = {
          email,
          ...EVERY_STANDARD_FIELD,
          // A consent box ticked, one optional list ticked, and the page with a campaign.
          consent: 'yes',
          _page: `${SITE}/join?utm_campaign=${encodeURIComponent('spring ✿ 2030')}`,
        }
        const optional = checked.profile.optional_lists ?? []
        if (optional.length > 0) fields.list = optional[0]
        for (const alias of aliases) fields[`custom.${alias}`] = '2024-05-17'
        const res = await postSignup(relay, 'generated', fields, {
          origin: SITE,
          ip: `192.0.2.${signups % 250}`,
          mode,
        })
        const said = `${mode} sign-up with ${JSON.stringify({ settings, profile })}`
        assert.ok(res.status < 500, `${said}: ${res.status} ${await res.clone().text()}`)
        assert.ok(isAccepted(res, mode), `${said}: ${res.status} ${await res.text()}`)
        accepted.push(email)
      }
      await assertNoneLost(relay, accepted)
    }
  )
}
