/**
 * Consent receipts on Deno, mirroring test/workers/consent.test.ts over Deno KV, where several
 * instances share the store: a sign-up with consent is answered only once its receipt is stored;
 * the owner's API reads, exports and erases them on any instance; the cron purges them; an
 * erasure that drops a statement never takes it from a receipt written meanwhile.
 */
import assert from 'node:assert/strict'
import { KvConsentRepo } from '../../src/adapters/deno/kv/consent-repo.ts'
import type { ConsentReceipt } from '../../src/core/consent/receipt.ts'
import { sha256Hex } from '../../src/core/lib/hash-key.ts'
import { DAY_MS } from '../../src/core/metrics/metrics.ts'
import type { Submission } from '../../src/core/outbox/submit.ts'
import {
  connect,
  type Instance,
  OWNER,
  withTwoHandles,
  withTwoInstances,
} from '../support/deno-relay.ts'
import { LIST_1 } from '../support/network.ts'

const STATEMENT = 'I agree to receive the newsletter.'
let n = 0

async function signup(email: string): Promise<Submission> {
  return {
    formId: 'newsletter',
    payload: { email_address: email, list_memberships: [LIST_1] },
    emailHash: `hash:${email}`,
    clientKey: `client:${++n}`,
    digest: `digest:${email}`,
    consent: {
      text: STATEMENT,
      textSha256: await sha256Hex(STATEMENT),
      origin: 'https://site.test',
      page: null,
      network: '203.0.113.7',
    },
  }
}

async function receiptsOf(i: Instance, email: string) {
  const res = await i.call(`/admin/api/consents?email=${encodeURIComponent(email)}`, {
    headers: OWNER,
  })
  assert.equal(res.status, 200)
  return ((await res.json()) as { receipts: Record<string, string | null>[] }).receipts
}

Deno.test('consents: 200 and 202 leave with their receipt; any instance reads and erases it', () =>
  withTwoInstances(async ({ a, b, net, cc, clock }) => {
    assert.equal((await connect(a, net)).status, 303)
    const at = clock.now()
    // The Deno adapter writes nothing after the answer: what it stored is there when it answers.
    assert.deepEqual(await a.relay.service.submit(await signup('inline@example.com')), {
      status: 'delivered',
    })
    cc.down = true
    clock.advance(1000)
    assert.deepEqual(await a.relay.service.submit(await signup('queued@example.com')), {
      status: 'queued',
    })
    assert.deepEqual(await receiptsOf(b, 'INLINE@example.com'), [
      {
        form: 'newsletter',
        email: 'inline@example.com',
        given_at: new Date(at).toISOString(),
        text: STATEMENT,
        text_sha256: await sha256Hex(STATEMENT),
        origin: 'https://site.test',
        page: null,
        network: '203.0.113.7',
      },
    ])
    assert.equal((await receiptsOf(b, 'queued@example.com')).length, 1)

    const export_ = await b.call('/admin/api/consents.csv', { headers: OWNER })
    assert.equal(export_.status, 200)
    assert.equal(export_.headers.get('content-type'), 'text/csv; charset=utf-8')
    const lines = (await export_.text()).split('\r\n')
    assert.deepEqual(
      lines.slice(1, -1).map((l) => l.split(',')[1]),
      ['inline@example.com', 'queued@example.com']
    )

    const erased = await a.call('/admin/api/consents?email=inline@example.com', {
      method: 'DELETE',
      headers: OWNER,
    })
    assert.equal(erased.status, 204)
    assert.deepEqual(await receiptsOf(b, 'inline@example.com'), [])
    assert.equal((await receiptsOf(b, 'queued@example.com')).length, 1)

    // Five years on (CONSENT_RETENTION_DAYS, 1825 by default), the cron deletes the rest.
    clock.set(at + 1826 * DAY_MS)
    await b.relay.tick()
    assert.deepEqual(await receiptsOf(a, 'queued@example.com'), [])
  }))

/**
 * `kv`, with `between` run once right after the read that decides whether a statement is still
 * referred to, before the commit that would drop it: the moment a receipt from another
 * instance could land.
 */
function pausedBeforeDrop(kv: Deno.Kv, between: () => Promise<void>): Deno.Kv {
  let pending: (() => Promise<void>) | null = between
  return new Proxy(kv, {
    get(target, name) {
      if (name === 'getMany') {
        return async (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) => {
          const read = await target.getMany(keys, options)
          const hook = pending
          if (keys[0]?.[0] === 'consent_text_refs' && hook) {
            pending = null
            await hook()
          }
          return read
        }
      }
      const value = Reflect.get(target, name)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

Deno.test('consents: an erasure dropping a statement never takes it from a new receipt', () =>
  withTwoHandles(async (kvA, kvB) => {
    const receipt = async (email: string): Promise<ConsentReceipt> => ({
      form: 'f',
      email,
      givenAt: 1000,
      text: STATEMENT,
      textSha256: await sha256Hex(STATEMENT),
      origin: null,
      page: null,
      network: '192.0.2.1',
    })
    const b = new KvConsentRepo(kvB)
    let landed = false
    const a = new KvConsentRepo(
      pausedBeforeDrop(kvA, async () => {
        await b.record(await receipt('fresh@example.com'))
        landed = true
      })
    )
    await a.record(await receipt('gone@example.com'))
    // The erasure reads the statement as unused, then another instance's receipt of it lands.
    assert.equal(await a.erase('gone@example.com'), 1)
    assert.ok(landed)
    const [fresh] = await a.receiptsOf('fresh@example.com')
    assert.equal(fresh?.text, STATEMENT)
    // Once nothing refers to it, it goes, with its counts.
    await b.erase('fresh@example.com')
    assert.deepEqual(await a.countsByForm(), {})
    for (const prefix of ['consent_text', 'consent_text_refs', 'consent', 'consent_email']) {
      assert.deepEqual(await Array.fromAsync(kvA.list({ prefix: [prefix] })), [], prefix)
    }
  }))
