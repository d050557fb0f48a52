/**
 * @module sandbox/stored-sandbox
 * `StoredSandbox`: the model of Constant Contact (model.ts) with what the owner relies on kept in
 * storage, so it outlives the isolate: an idle Durable Object is evicted after seconds, and
 * `npm start` restarts. Kept: the contacts (with their lists and tags), the tags made through the
 * API, and the lists deleted from /__sandbox. The model stays in memory and pure; this loads it
 * once, then writes what each request changed before that request's answer leaves.
 * Not kept: the tokens' rotation families and used codes (tokens are self-verifying JWTs, so a
 * restarted model still accepts the relay's), the request logs and the knobs tests set.
 */
import type { SandboxModel, SandboxRecord, SandboxStorage } from '../core/app/sandbox-slot.ts'
import type { Clock } from '../core/lib/clock.ts'
import type { SandboxView } from '../core/relay/backend.ts'
import { CcModel, type ModelChange, type ModelContact, type ModelTag } from './model.ts'

/** The record kinds, documented in docs/storage.md ("The sandbox's records"). */
const CONTACT = 'contact'
const TAG = 'tag'
const LIST = 'list'

function recordOf(change: ModelChange): SandboxRecord {
  return 'contact' in change
    ? { kind: CONTACT, id: change.contact.email_address, value: change.contact }
    : { kind: TAG, id: change.tag.tag_id, value: change.tag }
}

export class StoredSandbox implements SandboxModel {
  readonly #model: CcModel
  readonly #storage: SandboxStorage
  /** What requests changed and storage does not have yet, by kind and id (the newest wins). */
  readonly #unsaved = new Map<string, SandboxRecord>()
  #loaded: Promise<void> | null = null

  constructor(options: { clock: Clock; tokenTtlSeconds: number; storage: SandboxStorage }) {
    this.#storage = options.storage
    this.#model = new CcModel({
      clock: options.clock,
      tokenTtlSeconds: options.tokenTtlSeconds,
      onChange: (change) => {
        const record = recordOf(change)
        this.#unsaved.set(`${record.kind}/${record.id}`, record)
      },
    })
  }

  async handle(request: Request): Promise<Response> {
    await this.#load()
    try {
      return await this.#model.handle(request)
    } finally {
      await this.#save()
    }
  }

  async setListDeleted(listId: string, deleted: boolean): Promise<void> {
    await this.#load()
    if (deleted) this.#model.deletedLists.add(listId)
    else this.#model.deletedLists.delete(listId)
    await this.#storage.put([{ kind: LIST, id: listId, value: { deleted } }])
  }

  async view(): Promise<SandboxView> {
    await this.#load()
    return this.#model.view()
  }

  /** Once per instance; a failed load is tried again by the next call. */
  #load(): Promise<void> {
    this.#loaded ??= this.#read().catch((err: unknown) => {
      this.#loaded = null
      throw err
    })
    return this.#loaded
  }

  async #read(): Promise<void> {
    const [contacts, tags, lists] = await Promise.all(
      [CONTACT, TAG, LIST].map((kind) => this.#storage.records(kind))
    )
    const model = this.#model
    for (const { value } of contacts) {
      const contact = value as ModelContact
      model.contacts.set(contact.email_address, contact)
    }
    const known = new Set(model.tags.map((t) => t.tag_id))
    for (const { value } of tags) {
      const tag = value as ModelTag
      if (!known.has(tag.tag_id)) model.tags.push(tag)
    }
    for (const { id, value } of lists)
      if ((value as { deleted: boolean }).deleted) model.deletedLists.add(id)
  }

  async #save(): Promise<void> {
    if (this.#unsaved.size === 0) return
    const records = [...this.#unsaved.values()]
    this.#unsaved.clear()
    await this.#storage.put(records)
  }
}
