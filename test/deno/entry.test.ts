/**
 * What the Deno entry adds around the app: the sandbox (mirroring test/sandbox/connect.test.ts;
 * its records in KV, test/support/sandbox-storage.ts),
 * the client IP taken from the connection rather than from a header, and wake-ups that reach
 * the outbox through a timer and a KV queue message.
 */
import assert from 'node:assert/strict'
import { createDenoRelay, DRAIN_MESSAGE, forwardedClient } from '../../src/adapters/deno/relay.ts'
import { SLOT_REST_MS } from '../../src/core/cc/pacer.ts'
import { sandboxKit } from '../../src/sandbox/kit.ts'
import { postSignup, SITE } from '../support/config-values.ts'
import {
  ADMIN_TOKEN,
  CONNECT_COOKIE,
  connect,
  connInfo,
  cookieFrom,
  ENV,
  type Instance,
  instance,
  network,
  ORIGIN,
  submit,
  TestNetwork,
  withConfiguredRelay,
} from '../support/deno-relay.ts'
import {
  connectToSandbox,
  contactsOutliveRestart,
  deletedListOutlivesRestart,
  type LocalSandboxRelay,
} from '../support/sandbox-storage.ts'
import { VirtualClock } from '../support/virtual-clock.ts'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The vars `npm run start:deno` uses when there are no real credentials. */
const SANDBOX_ENV = {
  CTCT_SANDBOX: '1',
  CC_CLIENT_ID: 'sandbox-client',
  ADMIN_TOKEN: 'sandbox-admin-token',
  FORMS: JSON.stringify({
    newsletter: {
      lists: ['3a1b2c4d-0000-4000-8000-000000000001'],
      origins: ['http://localhost:8788'],
    },
  }),
}

const noNetwork: typeof fetch = (input) => {
  throw new TypeError(`no network in tests: ${new Request(input).url}`)
}

/** What `deno serve --host 127.0.0.1 --port 8000` tells the default export once it listens. */
const LOOPBACK: Deno.NetAddr = { transport: 'tcp', hostname: '127.0.0.1', port: 8000 }

/** The relay of `npm run start:deno`: the sandbox in, no network. Not listening yet. */
function sandboxRelay(kv: Deno.Kv, clock?: VirtualClock) {
  return createDenoRelay({
    kv,
    env: SANDBOX_ENV,
    sandbox: sandboxKit,
    fetch: noNetwork,
    clock,
    wake: async () => {},
  })
}

Deno.test('sandbox: sign-in → Connect → sandbox consent → callback → connected', async () => {
  const kv = await Deno.openKv(':memory:')
  const clock = new VirtualClock(Date.now())
  const relay = sandboxRelay(kv, clock)
  relay.onListen(LOOPBACK)
  const local = 'http://localhost:8000'
  const call = (path: string, init?: RequestInit) =>
    relay.fetch(new Request(new URL(path, local), init), connInfo('127.0.0.1'))
  try {
    const login = await call('/admin/login', {
      method: 'POST',
      headers: { origin: local, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=sandbox-admin-token',
    })
    assert.equal(login.status, 303)
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]

    assert.match(cookie, /^__Host-ctct_relay_session=/)
    const authorize = await call('/oauth/authorize', { headers: { cookie } })
    assert.equal(authorize.status, 302)
    const connectCookie = (authorize.headers.get('set-cookie') ?? '').split(';')[0]
    const consentUrl = new URL(authorize.headers.get('location') ?? '')
    assert.equal(consentUrl.origin + consentUrl.pathname, `${local}/__sandbox/authorize`)

    const page = await (await call(consentUrl.pathname + consentUrl.search)).text()
    assert.match(page, /Allow/)
    // Submit the consent form exactly as the page renders it.
    const form = new URLSearchParams({ decision: 'allow' })
    for (const m of page.matchAll(/type="hidden" name="([a-z_]+)" value="([^"]*)"/g)) {
      form.set(m[1], m[2].replace(/&amp;/g, '&'))
    }
    const approved = await call('/__sandbox/authorize', {
      method: 'POST',
      headers: { origin: local, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    })
    assert.equal(approved.status, 302)
    const callback = new URL(approved.headers.get('location') ?? '')
    assert.equal(callback.pathname, '/oauth/callback')

    const done = await call(callback.pathname + callback.search, {
      headers: { cookie: `${cookie}; ${connectCookie}` },
    })
    assert.equal(done.status, 303, await done.clone().text())
    const dashboard = await (await call('/admin', { headers: { cookie } })).text()
    assert.match(dashboard, /data-state="connected"/)
    assert.deepEqual(await (await call('/healthz')).json(), { ok: true, connected: true })

    // And a sign-up goes through to the sandbox's Constant Contact, once the dashboard's reads
    // (the account summary, lists, custom fields and tags) have left a pacing slot.
    clock.advance(SLOT_REST_MS + 100)
    const signup = await call('/subscribe/newsletter', {
      method: 'POST',
      headers: { origin: 'http://localhost:8788', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'sandbox@example.com' }),
    })
    assert.equal(signup.status, 200)
  } finally {
    relay.close()
    kv.close()
  }
})

Deno.test('sandbox: refused on a host that is not loopback', async () => {
  const kv = await Deno.openKv(':memory:')
  const relay = sandboxRelay(kv)
  relay.onListen(LOOPBACK)
  try {
    const res = await relay.fetch(new Request(`${ORIGIN}/healthz`), connInfo('203.0.113.9'))
    assert.equal(res.status, 403)
    assert.equal(((await res.json()) as { error: string }).error, 'sandbox_forbidden')
  } finally {
    relay.close()
    kv.close()
  }
})

Deno.test('sandbox: runs only on a loopback listener, whatever the Host header says', async () => {
  const kv = await Deno.openKv(':memory:')
  const relay = sandboxRelay(kv)
  // `Host: localhost` is all a remote client needs to send to look local.
  const spoofed = () =>
    relay.fetch(new Request('http://localhost:8000/healthz'), connInfo('203.0.113.9'))
  const refused = async () => {
    const res = await spoofed()
    assert.equal(res.status, 403)
    assert.equal(((await res.json()) as { error: string }).error, 'sandbox_forbidden')
  }
  try {
    await refused() // not listening yet (or a platform that never says where): refused
    relay.onListen({ transport: 'tcp', hostname: '0.0.0.0', port: 8000 })
    await refused()
    relay.onListen({ transport: 'tcp', hostname: '::', port: 8000 })
    await refused()
    relay.onListen({ transport: 'tcp', hostname: '::1', port: 8000 })
    assert.equal((await spoofed()).status, 200)
    relay.onListen(LOOPBACK)
    assert.equal((await spoofed()).status, 200)
  } finally {
    relay.close()
    kv.close()
  }
})

Deno.test('sandbox: its contacts and deleted lists outlive a restart (KV)', async () => {
  const kv = await Deno.openKv(':memory:')
  const clock = new VirtualClock(Date.now())
  const start = () => {
    const relay = sandboxRelay(kv, clock)
    relay.onListen(LOOPBACK)
    return relay
  }
  let current = start()
  const relay: LocalSandboxRelay = {
    call: (path, init) =>
      current.fetch(new Request(new URL(path, relay.origin), init), connInfo('127.0.0.1')),
    origin: 'http://localhost:8000',
    owner: { authorization: 'Bearer sandbox-admin-token' },
    restart: async () => {
      await current.settle()
      current = start()
    },
    rest: () => clock.advance(SLOT_REST_MS + 100),
  }
  try {
    await connectToSandbox(relay)
    await contactsOutliveRestart(relay)
    await deletedListOutlivesRestart(relay)
  } finally {
    await current.settle()
    kv.close()
  }
})

Deno.test('client IP: from the connection; a client-sent CF-Connecting-IP is overwritten', async () => {
  const kv = await Deno.openKv(':memory:')
  const { net } = network()
  const relay = instance(kv, net)
  const spoofed = (n: number, peer: string) =>
    relay.call(
      '/subscribe/newsletter',
      {
        method: 'POST',
        headers: {
          origin: 'https://site.test',
          'content-type': 'application/json',
          'cf-connecting-ip': `198.51.100.${n}`, // a fresh "IP" per request: must not help
        },
        body: JSON.stringify({ email: `ip${n}@example.com` }),
      },
      peer
    )
  try {
    assert.equal((await connect(relay, net)).status, 303)
    const statuses: number[] = []
    for (let n = 1; n <= 11; n++) statuses.push((await spoofed(n, '192.0.2.77')).status)
    // SUBMIT_RATE_LIMIT_PER_MINUTE is 10 per visitor IP: the 11th from one peer is refused.
    // Accepted means delivered (200) or queued behind CC's 4/s pace (202).
    assert.ok(
      statuses.slice(0, 10).every((s) => s === 200 || s === 202),
      String(statuses)
    )
    assert.equal(statuses[10], 429)
    assert.notEqual((await spoofed(12, '192.0.2.78')).status, 429) // another peer is not limited
  } finally {
    relay.relay.close()
    kv.close()
  }
})

/** One proxy in front of every visitor: the connection's peer is always its address. */
const PROXY = '10.0.0.1'
const [VISITOR_A, VISITOR_B] = ['198.51.100.21', '2001:db8:42::7']

/** A sign-up through the proxy, which appended the visitor's address to X-Forwarded-For. */
const viaProxy = (relay: Pick<Instance, 'call'>, email: string, forwardedFor: string) =>
  postSignup(
    relay,
    'newsletter',
    { email },
    {
      origin: SITE,
      ip: PROXY,
      mode: 'json',
      headers: { 'x-forwarded-for': forwardedFor },
    }
  )
const accepted = (res: Response) => res.status === 200 || res.status === 202

Deno.test('behind a proxy, CLIENT_IP_HEADER=x-forwarded-for: each visitor has its own sign-up budget', () =>
  withConfiguredRelay({ CLIENT_IP_HEADER: 'X-Forwarded-For' }, async (relay) => {
    // A spends its ten a minute; earlier entries are the client's own, never its address.
    for (let n = 0; n < 10; n++)
      assert.ok(accepted(await viaProxy(relay, `a${n}@example.com`, `192.0.2.${n}, ${VISITOR_A}`)))
    assert.equal((await viaProxy(relay, 'a10@example.com', `192.0.2.99, ${VISITOR_A}`)).status, 429)
    // B, behind the same proxy, is another network.
    assert.ok(accepted(await viaProxy(relay, 'b@example.com', VISITOR_B)))
    // No address in the header (or none at all): the connection's, the proxy's own budget.
    assert.ok(accepted(await viaProxy(relay, 'c@example.com', 'unknown')))
  }))

Deno.test('behind a proxy, CLIENT_IP_HEADER: wrong tokens from one visitor lock out only that one', () =>
  withConfiguredRelay({ CLIENT_IP_HEADER: 'x-real-ip' }, async (relay) => {
    const status = async (token: string, visitor: string) =>
      (
        await relay.call(
          '/admin/status',
          { headers: { authorization: `Bearer ${token}`, 'x-real-ip': visitor } },
          PROXY
        )
      ).status
    for (let n = 0; n < 10; n++) assert.equal(await status(`wrong-${n}`, VISITOR_A), 401)
    assert.equal(await status(ADMIN_TOKEN, VISITOR_A), 429)
    assert.equal(await status(ADMIN_TOKEN, VISITOR_B), 200)
  }))

Deno.test('CLIENT_IP_HEADER unset: a forwarded address is not trusted; everyone is the proxy', () =>
  withConfiguredRelay({}, async (relay) => {
    for (let n = 0; n < 10; n++)
      assert.ok(accepted(await viaProxy(relay, `s${n}@example.com`, `198.51.100.${100 + n}`)))
    assert.equal((await viaProxy(relay, 'other@example.com', VISITOR_B)).status, 429)
  }))

Deno.test('forwardedClient: the last hop of x-forwarded-for, another header whole; an address or nothing', () => {
  assert.equal(forwardedClient('203.0.113.9, 198.51.100.1 ', 'x-forwarded-for'), '198.51.100.1')
  assert.equal(forwardedClient('2001:db8::1', 'x-forwarded-for'), '2001:db8::1')
  assert.equal(forwardedClient('198.51.100.1, evil', 'x-forwarded-for'), null)
  assert.equal(forwardedClient('198.51.100.1, 203.0.113.9', 'x-real-ip'), null)
  assert.equal(forwardedClient(' 198.51.100.1 ', 'x-real-ip'), '198.51.100.1')
  assert.equal(forwardedClient('', 'x-real-ip'), null)
  assert.equal(forwardedClient(null, 'x-real-ip'), null)
})

Deno.test('wake-ups: a timer and a KV queue message both drain; the item is sent once', async () => {
  const kv = await Deno.openKv(':memory:')
  // Real timers and a real KV queue are what this tests: the clock starts at real time, and the
  // test moves it to the retry time so the item is due when the real timer fires.
  const net = new TestNetwork(new VirtualClock(Date.now()))
  const { cc, clock } = net
  // The default wake-ups, as in src/deno.ts (no override).
  const relay = createDenoRelay({ kv, env: ENV, fetch: net.fetch, clock })
  const messages: unknown[] = []
  const listening = kv.listenQueue(async (message) => {
    messages.push(message)
    await relay.onQueueMessage(message)
  })
  const call = (path: string, init?: RequestInit) =>
    relay.fetch(new Request(new URL(path, ORIGIN), init), connInfo('192.0.2.5'))
  try {
    const authorize = await call('/oauth/authorize', {
      headers: { authorization: `Bearer ${ENV.ADMIN_TOKEN}` },
    })
    const back = await net.consent(authorize.headers.get('location') ?? '')
    const cookie = cookieFrom(authorize, CONNECT_COOKIE)
    assert.equal((await call(back.pathname + back.search, { headers: { cookie } })).status, 303)
    cc.down = true
    const queued = await submit({ call }, 'wake@example.com')
    assert.equal(queued.status, 202)
    cc.down = false
    cc.signupCalls = []
    clock.advance(5_000) // the retry (2.5–5 s away) is due whenever the timer fires
    // The timer fires after 2.5–5 s of real time; then the queue message arrives too.
    for (let i = 0; i < 100 && !cc.contacts.has('wake@example.com'); i++) await sleep(100)
    assert.ok(cc.contacts.has('wake@example.com'))
    for (let i = 0; i < 100 && messages.length === 0; i++) await sleep(100)
    assert.deepEqual(messages, [DRAIN_MESSAGE])
    assert.equal(cc.signupCalls.length, 1) // two wake-ups, one send
  } finally {
    relay.close()
    kv.close()
    await listening
  }
})
