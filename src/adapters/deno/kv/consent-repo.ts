/**
 * @module adapters/deno/kv/consent-repo
 * Consent receipts in Deno KV. A receipt is `['consent', givenAt, id]`, indexed by address; its
 * statement is `['consent_text', sha256]`, once per version, with a count of the receipts that
 * refer to it. `addReceipt` is also the outbox's, so a queued or dead-lettered sign-up's receipt
 * joins its commit. Counts are two monotonic `sum`s (in and out), as the outbox's are (keys.ts).
 */

import type { ConsentPage, ConsentReceipt } from '../../../core/consent/receipt.ts'
import type { ConsentRepo } from '../../../core/consent/repo.ts'
import { CONFLICT, collect, transact } from './transact.ts'

/** What `['consent', givenAt, id]` holds: the receipt but its time and its text. */
type StoredReceipt = Omit<ConsentReceipt, 'givenAt' | 'text'>

const receiptKey = (givenAt: number, id: string): Deno.KvKey => ['consent', givenAt, id]
const byEmail = (email: string, givenAt: number, id: string): Deno.KvKey => [
  'consent_email',
  email,
  givenAt,
  id,
]
const textKey = (sha256: string): Deno.KvKey => ['consent_text', sha256]
const textRefs = (sha256: string, way: 'in' | 'out'): Deno.KvKey => [
  'consent_text_refs',
  sha256,
  way,
]
const formCount = (form: string, way: 'in' | 'out'): Deno.KvKey => ['consent_count', form, way]

/** Receipts deleted per commit: four mutations and one check each, well inside KV's limits. */
const DELETE_BATCH = 50

/**
 * Adds `receipt` (nothing when undefined) to `op`. Its text is set again each time: a commit that
 * drops an unreferenced text checks the text's versionstamp, so it loses to this one.
 */
export function addReceipt(
  op: Deno.AtomicOperation,
  receipt: ConsentReceipt | undefined
): Deno.AtomicOperation {
  if (!receipt) return op
  const { givenAt, text, ...stored } = receipt
  const id = crypto.randomUUID()
  return op
    .set(receiptKey(givenAt, id), stored satisfies StoredReceipt)
    .set(byEmail(receipt.email, givenAt, id), 1)
    .set(textKey(receipt.textSha256), text)
    .sum(textRefs(receipt.textSha256, 'in'), 1n)
    .sum(formCount(receipt.form, 'in'), 1n)
}

const counted = (entry: Deno.KvEntryMaybe<Deno.KvU64>) => Number(entry.value?.value ?? 0n)

export class KvConsentRepo implements ConsentRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  record(receipt: ConsentReceipt): Promise<void> {
    return transact(async () =>
      (await addReceipt(this.#kv.atomic(), receipt).commit()).ok ? undefined : CONFLICT
    )
  }

  /** The receipts of `entries`, each with its text (read once per version); gone ones left out. */
  async #withTexts(entries: Deno.KvEntryMaybe<StoredReceipt>[]): Promise<ConsentReceipt[]> {
    const texts = new Map<string, string | null>()
    const receipts: ConsentReceipt[] = []
    for (const { key, value } of entries) {
      if (!value) continue
      if (!texts.has(value.textSha256)) {
        texts.set(value.textSha256, (await this.#kv.get<string>(textKey(value.textSha256))).value)
      }
      const text = texts.get(value.textSha256)
      if (text != null) receipts.push({ ...value, givenAt: key[1] as number, text })
    }
    return receipts
  }

  async receiptsOf(email: string): Promise<ConsentReceipt[]> {
    const index = await collect(
      this.#kv.list({ prefix: ['consent_email', email] }, { reverse: true })
    )
    const keys = index.map(({ key }) => receiptKey(key[2] as number, key[3] as string))
    const entries: Deno.KvEntryMaybe<StoredReceipt>[] = []
    // getMany takes ten keys at most.
    for (let i = 0; i < keys.length; i += 10) {
      entries.push(...(await this.#kv.getMany<StoredReceipt[]>(keys.slice(i, i + 10))))
    }
    return this.#withTexts(entries)
  }

  /** The cursor is KV's own, for this selector. */
  async between(from: number, to: number, limit: number, after?: string): Promise<ConsentPage> {
    const entries = this.#kv.list<StoredReceipt>(
      { start: ['consent', from], end: ['consent', to] },
      { cursor: after }
    )
    const page: Deno.KvEntry<StoredReceipt>[] = []
    let next: string | null = null
    let cursor = ''
    for await (const entry of entries) {
      // One more than asked for tells whether another page follows.
      if (page.length === limit) {
        next = cursor
        break
      }
      page.push(entry)
      cursor = entries.cursor
    }
    return { receipts: await this.#withTexts(page), next }
  }

  async countsByForm(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {}
    for (const entry of await collect(this.#kv.list<Deno.KvU64>({ prefix: ['consent_count'] }))) {
      const [, form, way] = entry.key as [string, string, 'in' | 'out']
      counts[form] = (counts[form] ?? 0) + (way === 'in' ? 1 : -1) * counted(entry)
    }
    return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0))
  }

  async erase(email: string): Promise<number> {
    const index = await collect(this.#kv.list({ prefix: ['consent_email', email] }))
    return this.#delete(index.map(({ key }) => receiptKey(key[2] as number, key[3] as string)))
  }

  /** Listed and deleted in batches: this runs in the cron, never on a sign-up. */
  async purge(before: number): Promise<number> {
    const old = await collect(this.#kv.list({ start: ['consent'], end: ['consent', before] }))
    return this.#delete(old.map(({ key }) => key))
  }

  /**
   * Deletes the receipts at `keys` with their index entries and counts, a batch per commit, each
   * checked so that two instances never count one deletion twice; then the texts they referred to
   * that nothing refers to any more.
   */
  async #delete(keys: Deno.KvKey[]): Promise<number> {
    let gone = 0
    const texts = new Set<string>()
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      gone += await transact(async () => {
        const entries = await Promise.all(
          keys.slice(i, i + DELETE_BATCH).map((key) => this.#kv.get<StoredReceipt>(key))
        )
        const op = this.#kv.atomic()
        let n = 0
        for (const entry of entries) {
          const r = entry.value
          if (!r) continue
          const [, givenAt, id] = entry.key as [string, number, string]
          op.check(entry)
            .delete(entry.key)
            .delete(byEmail(r.email, givenAt, id))
            .sum(textRefs(r.textSha256, 'out'), 1n)
            .sum(formCount(r.form, 'out'), 1n)
          texts.add(r.textSha256)
          n++
        }
        if (n === 0) return 0
        return (await op.commit()).ok ? n : CONFLICT
      })
    }
    for (const sha256 of texts) await this.#dropIfUnreferenced(sha256)
    return gone
  }

  /** Drops a text no receipt refers to; loses (and looks again) to a receipt written meanwhile. */
  #dropIfUnreferenced(sha256: string): Promise<void> {
    return transact(async () => {
      const text = await this.#kv.get<string>(textKey(sha256))
      const [refsIn, refsOut] = await this.#kv.getMany<[Deno.KvU64, Deno.KvU64]>([
        textRefs(sha256, 'in'),
        textRefs(sha256, 'out'),
      ])
      if (!text.value || counted(refsIn) > counted(refsOut)) return undefined
      const committed = await this.#kv
        .atomic()
        .check(text)
        .delete(text.key)
        .delete(refsIn.key)
        .delete(refsOut.key)
        .commit()
      return committed.ok ? undefined : CONFLICT
    })
  }
}
