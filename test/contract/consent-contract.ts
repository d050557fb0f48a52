/**
 * The consent part of the storage contract (ConsentRepo, and the receipts the outbox writes with
 * a sign-up), run against SQLite and Deno KV by the same runners as storage-contract.ts.
 */
import assert from 'node:assert/strict'
import type { ConsentReceipt } from '../../src/core/consent/receipt.ts'
import type { DeliveryError, NewOutboxItem } from '../../src/core/outbox/repo.ts'
import type { ContractRunner, StoreUnderTest } from './storage-contract.ts'

/** Noon UTC. */
const T = Date.UTC(2030, 0, 1, 12)
const ERROR: DeliveryError = { status: 400, errorKey: 'bad', message: 'bad', at: T }
const V1 = 'I agree to receive the newsletter.'
const V2 = 'I agree to receive the newsletter, and its partners’ offers.'
/** Stand-ins for each text's SHA-256: the store keys texts by the hash it is given. */
const SHA: Record<string, string> = { [V1]: '1'.repeat(64), [V2]: '2'.repeat(64) }

const receipt = (email: string, givenAt = T, over: Partial<ConsentReceipt> = {}) => {
  const text = over.text ?? V1
  return {
    form: 'f',
    email,
    givenAt,
    text,
    textSha256: SHA[text],
    origin: 'https://site.test',
    page: 'https://site.test/join?utm_source=x',
    network: '203.0.113.7',
    ...over,
  } satisfies ConsentReceipt
}

const item = (email: string, over: Partial<NewOutboxItem> = {}): NewOutboxItem => ({
  formId: 'f',
  emailHash: `hash:${email}`,
  payload: { email_address: email, list_memberships: ['l'] },
  attempts: 0,
  nextAttemptAt: T,
  now: T,
  ...over,
})

const occurrences = (text: string, part: string) => text.split(part).length - 1

/** Every receipt in the store, oldest first, read page by page with `limit`. */
async function allPages(s: StoreUnderTest, from: number, to: number, limit: number) {
  const pages: string[][] = []
  let after: string | undefined
  do {
    const page = await s.consents.between(from, to, limit, after)
    pages.push(page.receipts.map((r) => `${r.email}@${r.givenAt - T}`))
    after = page.next ?? undefined
  } while (after !== undefined)
  return pages
}

export function consentContract({ test, withStore }: ContractRunner): void {
  const contract = (name: string, body: (store: StoreUnderTest) => Promise<void>) =>
    test(name, () => withStore(body))

  contract('consents: a receipt reads back whole, newest first, by its address', async (s) => {
    assert.deepEqual(await s.consents.receiptsOf('ada@example.com'), [])
    await s.consents.record(receipt('ada@example.com', T))
    await s.consents.record(receipt('ada@example.com', T + 2000, { page: null, origin: null }))
    await s.consents.record(receipt('bob@example.com', T + 1000, { form: 'g' }))
    assert.deepEqual(await s.consents.receiptsOf('ada@example.com'), [
      receipt('ada@example.com', T + 2000, { page: null, origin: null }),
      receipt('ada@example.com', T),
    ])
    assert.deepEqual(await s.consents.receiptsOf('bob@example.com'), [
      receipt('bob@example.com', T + 1000, { form: 'g' }),
    ])
    assert.deepEqual(await s.consents.receiptsOf('nobody@example.com'), [])
    // Three receipts, one copy of the statement.
    assert.equal(occurrences(await s.dump(), V1), 1)
  })

  contract('consents: a new statement is a new text; earlier receipts keep theirs', async (s) => {
    await s.consents.record(receipt('ada@example.com', T))
    await s.consents.record(receipt('ada@example.com', T + 1, { text: V2 }))
    const [newer, older] = await s.consents.receiptsOf('ada@example.com')
    assert.equal(newer.text, V2)
    assert.equal(newer.textSha256, SHA[V2])
    assert.equal(older.text, V1)
    assert.equal(older.textSha256, SHA[V1])
  })

  contract('consents: the outbox writes a receipt with the item it stores or merges', async (s) => {
    const stored = await s.outbox.enqueue(
      item('q@example.com', { receipt: receipt('q@example.com') }),
      10
    )
    assert.equal(stored.outcome, 'stored')
    const merged = await s.outbox.enqueue(
      item('q@example.com', { receipt: receipt('q@example.com', T + 1, { text: V2 }) }),
      10
    )
    assert.equal(merged.outcome, 'merged')
    assert.deepEqual(
      (await s.consents.receiptsOf('q@example.com')).map((r) => [r.givenAt, r.text]),
      [
        [T + 1, V2],
        [T, V1],
      ]
    )
    // Refused at the cap: nothing of it is kept, its receipt included.
    const full = await s.outbox.enqueue(
      item('full@example.com', { receipt: receipt('full@example.com') }),
      1
    )
    assert.equal(full.outcome, 'full')
    assert.deepEqual(await s.consents.receiptsOf('full@example.com'), [])
    assert.ok(!(await s.dump()).includes('full@example.com'))
    // An item without consent writes no receipt.
    await s.outbox.enqueue(item('plain@example.com'), 10)
    assert.deepEqual(await s.consents.receiptsOf('plain@example.com'), [])
    assert.deepEqual(await s.consents.countsByForm(), { f: 2 })
  })

  contract(
    'consents: an inline send CC refused keeps its receipt with the dead letter',
    async (s) => {
      const { payload } = item('dead@example.com')
      await s.outbox.kill({ formId: 'f', payload, receipt: receipt('dead@example.com') }, ERROR, T)
      assert.equal((await s.outbox.deadLetters(10)).length, 1)
      assert.deepEqual(await s.consents.receiptsOf('dead@example.com'), [
        receipt('dead@example.com'),
      ])
    }
  )

  contract('consents: between is [from, to), oldest first, a page at a time', async (s) => {
    // Two receipts share each moment: pages must split ties without losing or repeating one.
    for (const at of [0, 1000, 2000, 3000]) {
      await s.consents.record(receipt(`a${at}@example.com`, T + at))
      await s.consents.record(receipt(`b${at}@example.com`, T + at))
    }
    const every = await allPages(s, 0, Number.MAX_SAFE_INTEGER, 100)
    assert.equal(every.length, 1)
    assert.deepEqual(
      every[0].map((r) => r.split('@').at(-1)),
      ['0', '0', '1000', '1000', '2000', '2000', '3000', '3000']
    )
    for (const limit of [1, 2, 3, 8]) {
      const pages = await allPages(s, T + 1000, T + 3000, limit)
      assert.ok(
        pages.slice(0, -1).every((p) => p.length === limit),
        `limit ${limit}`
      )
      assert.deepEqual(pages.flat().sort(), [
        'a1000@example.com@1000',
        'a2000@example.com@2000',
        'b1000@example.com@1000',
        'b2000@example.com@2000',
      ])
    }
    const page = await s.consents.between(T + 1000, T + 3000, 4)
    assert.equal(page.next, null, 'a page that holds the rest is the last')
    assert.deepEqual(await s.consents.between(T + 5000, T + 6000, 10), { receipts: [], next: null })
  })

  contract('consents: countsByForm follows every write and deletion', async (s) => {
    assert.deepEqual(await s.consents.countsByForm(), {})
    await s.consents.record(receipt('a@example.com', T))
    await s.consents.record(receipt('b@example.com', T + 1))
    await s.consents.record(receipt('a@example.com', T + 2, { form: 'g' }))
    assert.deepEqual(await s.consents.countsByForm(), { f: 2, g: 1 })
    assert.equal(await s.consents.erase('a@example.com'), 2)
    assert.deepEqual(await s.consents.countsByForm(), { f: 1 })
    assert.equal(await s.consents.purge(T + 2), 1)
    assert.deepEqual(await s.consents.countsByForm(), {})
  })

  contract('consents: erase deletes one person’s receipts, and texts left unused', async (s) => {
    await s.consents.record(receipt('erase@example.com', T))
    await s.consents.record(receipt('erase@example.com', T + 1, { text: V2 }))
    await s.consents.record(receipt('keep@example.com', T + 2))
    assert.equal(await s.consents.erase('erase@example.com'), 2)
    assert.equal(await s.consents.erase('erase@example.com'), 0)
    assert.deepEqual(await s.consents.receiptsOf('erase@example.com'), [])
    const dump = await s.dump()
    assert.ok(!dump.includes('erase@example.com'), 'no copy of the address is left')
    assert.ok(!dump.includes(V2), 'a text no receipt refers to is gone')
    assert.equal(occurrences(dump, V1), 1, 'one still referred to stays')
    assert.deepEqual(await s.consents.receiptsOf('keep@example.com'), [
      receipt('keep@example.com', T + 2),
    ])
    // A statement dropped and then given again is stored again.
    await s.consents.erase('keep@example.com')
    assert.ok(!(await s.dump()).includes(V1))
    await s.consents.record(receipt('again@example.com', T + 3))
    assert.deepEqual(await s.consents.receiptsOf('again@example.com'), [
      receipt('again@example.com', T + 3),
    ])
  })

  contract('consents: purge deletes receipts given before the line, and their texts', async (s) => {
    await s.consents.record(receipt('old@example.com', T - 1, { text: V2 }))
    await s.consents.record(receipt('old@example.com', T))
    await s.consents.record(receipt('new@example.com', T + 1))
    assert.equal(await s.consents.purge(T), 1)
    assert.deepEqual(
      (await s.consents.receiptsOf('old@example.com')).map((r) => r.givenAt),
      [T]
    )
    assert.ok(!(await s.dump()).includes(V2))
    assert.equal(await s.consents.purge(T + 2), 2)
    assert.equal(await s.consents.purge(T + 2), 0)
    const dump = await s.dump()
    assert.ok(!dump.includes('@example.com') && !dump.includes(V1), 'nothing of them is left')
  })
}
