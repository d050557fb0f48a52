/**
 * The sandbox keeps what the owner relies on in storage (#20): an instance made over the same
 * storage, as after an eviction or a restart of `npm start`, holds the same contacts, tags and
 * deleted lists, and acts on them.
 */
import { describe, expect, it } from 'vitest'
import { VirtualClock } from '../../test/support/virtual-clock.ts'
import type { SandboxRecord, SandboxStorage } from '../core/app/sandbox-slot.ts'
import { issueSandboxCode, SANDBOX_LISTS } from './model.ts'
import { StoredSandbox } from './stored-sandbox.ts'

const BASE = 'https://sandbox.test'
const REDIRECT = 'https://relay.test/oauth/callback'
const [NEWSLETTER, UPDATES] = SANDBOX_LISTS.map((l) => l.list_id)

/** The runtimes' storage reduced to what the port promises; counts the writes. */
class MemoryStorage implements SandboxStorage {
  readonly #records = new Map<string, SandboxRecord>()
  writes = 0
  async records(kind: string) {
    return [...this.#records.values()].filter((r) => r.kind === kind).map((r) => structuredClone(r))
  }
  async put(records: SandboxRecord[]) {
    this.writes++
    for (const r of records) this.#records.set(`${r.kind}/${r.id}`, structuredClone(r))
  }
}

function setup() {
  const clock = new VirtualClock()
  const storage = new MemoryStorage()
  const start = () => new StoredSandbox({ clock, tokenTtlSeconds: 3600, storage })
  return { clock, storage, start }
}

async function accessToken(sandbox: StoredSandbox, clock: VirtualClock): Promise<string> {
  const code = await issueSandboxCode({
    clientId: 'app',
    redirectUri: REDIRECT,
    codeChallenge: null,
    now: clock.now(),
  })
  const res = await sandbox.handle(
    new Request(`${BASE}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('app:secret')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
    })
  )
  expect(res.status).toBe(200)
  return ((await res.json()) as { access_token: string }).access_token
}

const post = (sandbox: StoredSandbox, access: string, path: string, body: unknown) =>
  sandbox.handle(
    new Request(`${BASE}/v3${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  )

describe('StoredSandbox', () => {
  it('a new instance over the same storage has the contacts, their tags, made tags and deleted lists', async () => {
    const { clock, start } = setup()
    const first = start()
    const access = await accessToken(first, clock)
    const created = await post(first, access, '/contacts/sign_up_form', {
      email_address: 'Ada@Example.com',
      list_memberships: [NEWSLETTER],
    })
    expect(created.status).toBe(201)
    const { contact_id } = (await created.json()) as { contact_id: string }
    const tag = await post(first, access, '/contact_tags', { name: 'Spring fair' })
    const { tag_id } = (await tag.json()) as { tag_id: string }
    const tagged = await post(first, access, '/activities/contacts_taggings_add', {
      source: { contact_ids: [contact_id] },
      tag_ids: [tag_id],
    })
    expect(tagged.status).toBe(201)
    await first.setListDeleted(UPDATES, true)

    const second = start()
    const view = await second.view()
    expect(view.contacts).toEqual([
      {
        email_address: 'ada@example.com',
        list_memberships: [NEWSLETTER],
        tag_ids: [tag_id],
        updated_at: new Date(clock.now()).toISOString(),
      },
    ])
    expect(view.tags).toContainEqual({ tag_id, name: 'Spring fair' })
    expect(view.lists.map((l) => [l.list_id, l.deleted])).toEqual([
      [NEWSLETTER, false],
      [UPDATES, true],
    ])
    // And acts on them: the deleted list still refuses sign-ups, the contact is updated, not
    // made again, and the made tag cannot be made twice. The first instance's token still works.
    const refused = await post(second, access, '/contacts/sign_up_form', {
      email_address: 'ada@example.com',
      list_memberships: [UPDATES],
    })
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain(`List ${UPDATES} does not exist`)
    const again = await post(second, access, '/contacts/sign_up_form', {
      email_address: 'ada@example.com',
      list_memberships: [NEWSLETTER],
    })
    expect(await again.json()).toEqual({ contact_id, action: 'updated' })
    expect((await post(second, access, '/contact_tags', { name: 'Spring fair' })).status).toBe(409)
  })

  it('a list restored stays restored', async () => {
    const { start } = setup()
    await start().setListDeleted(UPDATES, true)
    await start().setListDeleted(UPDATES, false)
    const lists = (await start().view()).lists
    expect(lists.find((l) => l.list_id === UPDATES)?.deleted).toBe(false)
  })

  it('writes nothing for the requests that change nothing', async () => {
    const { clock, storage, start } = setup()
    const sandbox = start()
    const access = await accessToken(sandbox, clock)
    const lists = await sandbox.handle(
      new Request(`${BASE}/v3/contact_lists`, { headers: { authorization: `Bearer ${access}` } })
    )
    expect(lists.status).toBe(200)
    const refused = await post(sandbox, access, '/contacts/sign_up_form', { email_address: 'x' })
    expect(refused.status).toBe(400)
    expect(storage.writes).toBe(0)
  })
})
