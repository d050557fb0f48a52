/**
 * @module core/cc/catalog
 * The owner's Constant Contact lists, custom fields and tags (paginated reads), and a check of
 * every FORMS profile against them, so /admin flags an unknown list, field or tag id before a
 * visitor's sign-up (or its tagging) is refused for it.
 */

import type { Forms } from '../forms/profile.ts'
import {
  type CcCustomField,
  type CcList,
  type CcTag,
  type Page,
  processCustomFieldsPage,
  processListsPage,
  processTagsPage,
} from './client.ts'

export interface Catalog {
  lists: CcList[]
  custom_fields: CcCustomField[]
  tags: CcTag[]
  fetched_at: string
}

export interface ProfileCheck {
  form_id: string
  unknown_lists: string[]
  unknown_custom_fields: { alias: string; custom_field_id: string }[]
  unknown_tags: string[]
  /** A capture key whose field does not exist, or does not take text. */
  capture_problems: { key: string; custom_field_id: string; problem: 'unknown' | 'not_text' }[]
}

/** How many of a profile's lists, custom fields, tags and capture fields the account lacks. */
export function driftOf(check: ProfileCheck): number {
  return (
    check.unknown_lists.length +
    check.unknown_custom_fields.length +
    check.unknown_tags.length +
    check.capture_problems.length
  )
}

/**
 * Page sizes: the most CC accepts. An account holds up to 1,000 lists [D lists_overview];
 * GET /contact_lists takes `limit` up to 500 by the docs and 1,000 by the spec
 * (docs/constant-contact.md §8), so the documented 500: two requests at
 * most. Custom fields: `limit` up to 100, and an account has at most 100 of them: one request.
 * Tags: `limit` up to 500, and an account has at most 500 of them (§13): one request.
 */
export const LIST_PAGE_SIZE = 500
const FIELD_PAGE_SIZE = 100
const TAG_PAGE_SIZE = 500
/**
 * Only a guard against a `next` link that never ends (a loop at CC): 100 pages is 50,000 lists,
 * 50 times the most an account can hold, so no real account is ever cut short.
 */
const PAGE_GUARD = 100

type Get = (url: string) => Promise<{ ok: true; value: unknown } | { ok: false; message: string }>

/** Reads every page of one collection, following CC's `_links.next` (see cc/client.ts). */
async function collect<T>(
  get: Get,
  first: string,
  process: (body: unknown) => Page<T> | null
): Promise<{ ok: true; value: T[] } | { ok: false; message: string }> {
  const items: T[] = []
  const seen = new Set<string>()
  let url: string | null = first
  while (url) {
    if (seen.has(url) || seen.size >= PAGE_GUARD)
      return { ok: false, message: 'Constant Contact kept sending more pages' }
    seen.add(url)
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
  const lists = await collect(
    get,
    `${apiBase}/contact_lists?limit=${LIST_PAGE_SIZE}&status=active`,
    (body) => processListsPage(apiBase, body)
  )
  if (!lists.ok) return lists
  const fields = await collect(
    get,
    `${apiBase}/contact_custom_fields?limit=${FIELD_PAGE_SIZE}`,
    (body) => processCustomFieldsPage(apiBase, body)
  )
  if (!fields.ok) return fields
  const tags = await collect(get, `${apiBase}/contact_tags?limit=${TAG_PAGE_SIZE}`, (body) =>
    processTagsPage(apiBase, body)
  )
  if (!tags.ok) return tags
  return {
    ok: true,
    value: {
      lists: lists.value,
      custom_fields: fields.value,
      tags: tags.value,
      fetched_at: new Date(now).toISOString(),
    },
  }
}

/** CC's custom field types that hold text: where a capture writes where a sign-up came from. */
export function takesText(type: string): boolean {
  return type === 'string' || type === 'text_area'
}

export function checkProfiles(forms: Forms, catalog: Catalog): ProfileCheck[] {
  const lists = new Set(catalog.lists.map((l) => l.list_id.toLowerCase()))
  const fields = new Map(catalog.custom_fields.map((f) => [f.custom_field_id.toLowerCase(), f]))
  const tags = new Set(catalog.tags.map((t) => t.tag_id.toLowerCase()))
  return Object.entries(forms).map(([formId, profile]) => ({
    form_id: formId,
    // The lists every sign-up joins and the ones a visitor may tick: CC refuses either unknown.
    unknown_lists: [...profile.lists, ...(profile.optional_lists ?? [])].filter(
      (id) => !lists.has(id.toLowerCase())
    ),
    unknown_custom_fields: Object.entries(profile.custom_fields ?? {})
      .filter(([, id]) => !fields.has(id.toLowerCase()))
      .map(([alias, custom_field_id]) => ({ alias, custom_field_id })),
    unknown_tags: (profile.tags ?? []).filter((id) => !tags.has(id.toLowerCase())),
    capture_problems: Object.entries(profile.capture ?? {}).flatMap(([key, id]) => {
      if (id === undefined) return []
      const field = fields.get(id.toLowerCase())
      if (field && takesText(field.type)) return []
      return [{ key, custom_field_id: id, problem: field ? 'not_text' : 'unknown' } as const]
    }),
  }))
}
