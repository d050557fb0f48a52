/**
 * @module catalog
 * The owner's view of their CC account: lists and custom fields (paginated GETs, validated in
 * cc-client.ts), and a check of every FORMS profile against them, so an unknown list or custom
 * field id is flagged on /admin before a visitor's sign-up is refused for it.
 */
import {
  type CcCustomField,
  type CcList,
  type Page,
  processCustomFieldsPage,
  processListsPage,
} from './cc-client.ts'
import type { Forms } from './config.ts'

export interface Catalog {
  lists: CcList[]
  custom_fields: CcCustomField[]
  fetched_at: string
}

export interface ProfileCheck {
  form_id: string
  unknown_lists: string[]
  unknown_custom_fields: { alias: string; custom_field_id: string }[]
}

/** At most this many pages per collection: 500 lists (limit=50 × 10), far above typical use. */
const MAX_PAGES = 10

type Get = (url: string) => Promise<{ ok: true; value: unknown } | { ok: false; message: string }>

/** Reads every page of one collection, following CC's `_links.next` (see cc-client.ts). */
async function collect<T>(
  get: Get,
  first: string,
  process: (body: unknown) => Page<T> | null
): Promise<{ ok: true; value: T[] } | { ok: false; message: string }> {
  const items: T[] = []
  let url: string | null = first
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const res = await get(url)
    if (!res.ok) return res
    const parsed = process(res.value)
    if (!parsed) return { ok: false, message: 'Constant Contact sent an unexpected list page' }
    items.push(...parsed.items)
    url = parsed.next
  }
  return { ok: true, value: items }
}

export async function fetchCatalog(
  apiBase: string,
  get: Get,
  now: number
): Promise<{ ok: true; value: Catalog } | { ok: false; message: string }> {
  const lists = await collect(get, `${apiBase}/contact_lists?limit=50&status=active`, (body) =>
    processListsPage(apiBase, body)
  )
  if (!lists.ok) return lists
  const fields = await collect(get, `${apiBase}/contact_custom_fields?limit=100`, (body) =>
    processCustomFieldsPage(apiBase, body)
  )
  if (!fields.ok) return fields
  return {
    ok: true,
    value: {
      lists: lists.value,
      custom_fields: fields.value,
      fetched_at: new Date(now).toISOString(),
    },
  }
}

export function checkProfiles(forms: Forms, catalog: Catalog): ProfileCheck[] {
  const lists = new Set(catalog.lists.map((l) => l.list_id.toLowerCase()))
  const fields = new Set(catalog.custom_fields.map((f) => f.custom_field_id.toLowerCase()))
  return Object.entries(forms).map(([formId, profile]) => ({
    form_id: formId,
    unknown_lists: profile.lists.filter((id) => !lists.has(id.toLowerCase())),
    unknown_custom_fields: Object.entries(profile.custom_fields ?? {})
      .filter(([, id]) => !fields.has(id.toLowerCase()))
      .map(([alias, custom_field_id]) => ({ alias, custom_field_id })),
  }))
}
