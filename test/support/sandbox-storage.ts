/**
 * The sandbox keeps its contacts and deleted lists in storage (#20): runtime-neutral scenarios,
 * run in workerd (test/workers/sandbox/storage.test.ts, the Durable Object evicted) and on Deno
 * (test/deno/entry.test.ts, a new relay over the same KV). Before, an idle object forgot every
 * contact, and a list deleted at /__sandbox came back by itself.
 */
import assert from 'node:assert/strict'
import { SANDBOX_LISTS } from '../../src/sandbox/model.ts'

const NEWSLETTER = SANDBOX_LISTS[0].list_id

/** A relay in sandbox mode, reached on a loopback host, whose FORMS has `newsletter` (NEWSLETTER). */
export interface LocalSandboxRelay {
  call(path: string, init?: RequestInit): Promise<Response>
  /** Its loopback origin, e.g. http://localhost:8787. */
  origin: string
  /** The headers that make a request the owner's (Bearer ADMIN_TOKEN). */
  owner: Record<string, string>
  /** Starts it again over the same storage: the object evicted, the process restarted. */
  restart(): Promise<void>
  /** Lets the pacing slots rest (virtual time), so a sign-up is sent at once. */
  rest(): void
}

const post = (relay: LocalSandboxRelay, path: string, body = '', headers = relay.owner) =>
  relay.call(path, {
    method: 'POST',
    headers: {
      origin: relay.origin,
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body,
  })

/** Connect, Allow on the sandbox's consent page, the callback: connected. */
export async function connectToSandbox(relay: LocalSandboxRelay): Promise<void> {
  const authorize = await relay.call('/oauth/authorize', { headers: relay.owner })
  const cookie = (authorize.headers.get('set-cookie') ?? '').split(';')[0]
  const consent = new URLSearchParams(new URL(authorize.headers.get('location') ?? '').search)
  consent.set('decision', 'allow')
  const approved = await post(relay, '/__sandbox/authorize', consent.toString(), {})
  const back = new URL(approved.headers.get('location') ?? '')
  const done = await relay.call(back.pathname + back.search, { headers: { cookie } })
  assert.equal(done.status, 303, await done.text())
}

/** A sign-up from the demo site to `newsletter`: 200 once CC took it. */
async function signUp(relay: LocalSandboxRelay, email: string): Promise<number> {
  relay.rest()
  const res = await relay.call('/subscribe/newsletter', {
    method: 'POST',
    headers: { origin: 'http://localhost:8788', 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  })
  await res.body?.cancel()
  return res.status
}

const page = async (relay: LocalSandboxRelay, path: string) =>
  (await relay.call(path, { headers: relay.owner })).text()
const shows = (html: string, email: string) => html.includes(`data-sandbox-contact="${email}"`)

export async function contactsOutliveRestart(relay: LocalSandboxRelay): Promise<void> {
  assert.equal(await signUp(relay, 'kept@example.com'), 200)
  assert.ok(shows(await page(relay, '/admin'), 'kept@example.com'), 'shown before')
  await relay.restart()
  assert.ok(shows(await page(relay, '/admin'), 'kept@example.com'), 'shown after a restart')
}

/** What CC does with a deleted list, still after a restart: sign-ups to it are refused. */
export async function deletedListOutlivesRestart(relay: LocalSandboxRelay): Promise<void> {
  const action = (what: string) => `action="/__sandbox/lists/${NEWSLETTER}/${what}"`
  assert.equal((await post(relay, `/__sandbox/lists/${NEWSLETTER}/delete`)).status, 303)
  await relay.restart()
  assert.ok((await page(relay, '/__sandbox')).includes(action('restore')), 'still deleted')
  assert.notEqual(await signUp(relay, 'refused@example.com'), 200)
  assert.ok(!shows(await page(relay, '/admin'), 'refused@example.com'), 'not a contact')

  assert.equal((await post(relay, `/__sandbox/lists/${NEWSLETTER}/restore`)).status, 303)
  await relay.restart()
  assert.ok((await page(relay, '/__sandbox')).includes(action('delete')), 'restored')
  assert.equal(await signUp(relay, 'welcome@example.com'), 200)
}
