/**
 * The network the relay sees in tests, for the workerd and Deno suites alike (web-standard only):
 * Constant Contact is the project's one model of it (src/sandbox/model.ts), plus the two other
 * hosts the relay talks to, the owner's alert webhook and Turnstile's siteverify. Everything is
 * counted; anything else is refused, so no test can reach a real network.
 *
 * The workerd suite puts this behind MSW (test/support/edge.ts); the Deno suite passes `fetch` to
 * the app.
 */
import { CcModel } from '../../src/sandbox/model.ts'
import { VirtualClock } from './virtual-clock.ts'

export const CC_HOSTS = ['authz.cc.test', 'api.cc.test']
export const AUTHORIZE_URL = 'https://authz.cc.test/oauth2/default/v1/authorize'
export const TOKEN_URL = 'https://authz.cc.test/oauth2/default/v1/token'
export const API = 'https://api.cc.test/v3'
export const ALERT_URL = 'https://hooks.test/alert'
/** The owner's webhook receiver (core/webhooks/): `RECEIVER_HOST` answers any path. */
export const RECEIVER_HOST = 'receiver.test'
export const RECEIVER_URL = `https://${RECEIVER_HOST}/hook`
export const SITEVERIFY_URL = 'https://challenges.cloudflare.com/turnstile/v0/siteverify'

/** The test account's lists and custom field (the same ids as the tests' FORMS). */
export const LIST_1 = '9e2f7d10-1111-4c3b-8e42-000000000001'
export const LIST_2 = '9e2f7d10-1111-4c3b-8e42-000000000002'
export const LIST_3 = '9e2f7d10-1111-4c3b-8e42-000000000003'
export const SOURCE_FIELD = '5a1d0c6e-2222-4f1a-9b7c-000000000001'
/** Typed custom fields (src/core/cc/field-types.ts): one of each kind the relay treats apart. */
export const MEMBER_FIELD = '5a1d0c6e-2222-4f1a-9b7c-000000000002'
export const VISITS_FIELD = '5a1d0c6e-2222-4f1a-9b7c-000000000003'
export const BUDGET_FIELD = '5a1d0c6e-2222-4f1a-9b7c-000000000004'
export const JOINED_FIELD = '5a1d0c6e-2222-4f1a-9b7c-000000000005'
export const COLOUR_FIELD = '5a1d0c6e-2222-4f1a-9b7c-000000000006'
/** The test account's tags. */
export const TAG_1 = 'c6915956-fde3-4081-977e-000000000001'
export const TAG_2 = 'c6915956-fde3-4081-977e-000000000002'
export const TAG_3 = 'c6915956-fde3-4081-977e-000000000003'
export const TAGS = [
  { tag_id: TAG_1, name: 'Website' },
  { tag_id: TAG_2, name: 'Bread lover' },
  { tag_id: TAG_3, name: 'Events' },
]

/** Siteverify's verdict per test token: the host and action it vouches for. */
const VERDICTS: Record<string, Record<string, unknown>> = {
  'pass-token': { success: true, hostname: 'site.test', action: 'protected' },
  'wrong-host': { success: true, hostname: 'evil.test', action: 'protected' },
  'wrong-action': { success: true, hostname: 'site.test', action: 'other' },
}

export class TestNetwork {
  readonly clock: VirtualClock
  readonly cc: CcModel
  /** Every payload the alert webhook received. */
  alerts: Record<string, unknown>[] = []
  siteverifyCalls: URLSearchParams[] = []
  /** Every request the webhook receiver got, with the virtual time it arrived. */
  received: { url: string; headers: Record<string, string>; body: string; at: number }[] = []
  /** The receiver's statuses, one per request, in order; then `receiverStatus`. */
  receiverAnswers: number[] = []
  receiverStatus = 204
  /** While set, the receiver answers only once it resolves (a hanging receiver). */
  receiverHeld: Promise<void> | null = null

  constructor(clock = new VirtualClock()) {
    this.clock = clock
    this.cc = new CcModel({
      clock,
      lists: [
        { list_id: LIST_1, name: 'Newsletter' },
        { list_id: LIST_2, name: 'Product updates' },
        { list_id: LIST_3, name: 'Events' },
      ],
      customFields: [
        {
          custom_field_id: SOURCE_FIELD,
          name: 'source',
          label: 'Where did you hear of us?',
          type: 'string',
        },
        { custom_field_id: MEMBER_FIELD, name: 'member', label: 'Member', type: 'boolean' },
        {
          custom_field_id: VISITS_FIELD,
          name: 'visits',
          label: 'Visits a month',
          type: 'number',
          metadata: { decimal_places: 1 },
        },
        {
          custom_field_id: BUDGET_FIELD,
          name: 'budget',
          label: 'Budget',
          type: 'currency',
          metadata: { integer: true },
        },
        { custom_field_id: JOINED_FIELD, name: 'joined', label: 'Joined', type: 'date' },
        {
          custom_field_id: COLOUR_FIELD,
          name: 'colour',
          label: 'Favourite colour',
          type: 'single_select',
        },
      ],
      tags: TAGS,
    })
  }

  /** Between tests: CC healthy and quiet, empty logs. Issued tokens stay valid. */
  reset(): void {
    this.cc.reset()
    this.alerts = []
    this.siteverifyCalls = []
    this.received = []
    this.receiverAnswers = []
    this.receiverStatus = 204
    this.receiverHeld = null
  }

  /** The webhook receiver hangs until `release()`. */
  holdReceiver(): { release: () => void } {
    let release = () => {}
    this.receiverHeld = new Promise<void>((resolve) => {
      release = resolve
    })
    return {
      release: () => {
        this.receiverHeld = null
        release()
      },
    }
  }

  /** The event types the receiver got, in order. */
  receivedTypes(): string[] {
    return this.received.map((r) => String(JSON.parse(r.body).type))
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    if (CC_HOSTS.includes(url.host)) return this.cc.handle(request)
    if (request.method === 'POST' && request.url === ALERT_URL) {
      this.alerts.push((await request.json()) as Record<string, unknown>)
      return Response.json({ ok: true })
    }
    if (request.method === 'POST' && url.host === RECEIVER_HOST) {
      const headers = Object.fromEntries(request.headers)
      this.received.push({
        url: request.url,
        headers,
        body: await request.text(),
        at: this.clock.now(),
      })
      if (this.receiverHeld) await this.receiverHeld
      return new Response(null, { status: this.receiverAnswers.shift() ?? this.receiverStatus })
    }
    if (request.method === 'POST' && request.url === SITEVERIFY_URL) {
      const form = new URLSearchParams(await request.text())
      this.siteverifyCalls.push(form)
      return Response.json(
        VERDICTS[form.get('response') ?? ''] ?? {
          success: false,
          'error-codes': ['invalid-input-response'],
        }
      )
    }
    throw new TypeError(`test network: no route to ${request.method} ${request.url}`)
  }

  /** The owner at CC's consent page, clicking Allow: where CC sends the browser back to. */
  async consent(authorizeUrl: URL | string): Promise<URL> {
    const res = await this.cc.handle(new Request(authorizeUrl))
    return new URL(res.headers.get('location') ?? '')
  }

  /**
   * Holds CC's answers to the requests that arrive from now on, so a test can act while they
   * are in flight. `stop()`: later arrivals are answered as usual; `release()`: the held ones too.
   * `tokenEndpointOnly`: only the token endpoint's (a slow token endpoint; the API answers).
   */
  hold(options: { tokenEndpointOnly?: boolean } = {}): { stop: () => void; release: () => void } {
    let open = () => {}
    const released = new Promise<void>((resolve) => {
      open = resolve
    })
    const slot = options.tokenEndpointOnly ? 'tokenHeldUntil' : 'heldUntil'
    this.cc[slot] = released
    const stop = () => {
      if (this.cc[slot] === released) this.cc[slot] = null
    }
    return {
      stop,
      release: () => {
        stop()
        open()
      },
    }
  }

  /** The token-endpoint calls that were refreshes. */
  refreshCalls() {
    return this.cc.tokenCalls.filter((c) => c.grant === 'refresh_token')
  }

  /** Alert events received, in order. */
  alertEvents(): string[] {
    return this.alerts.map((a) => String(a.event))
  }
}
