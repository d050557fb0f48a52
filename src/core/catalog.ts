/**
 * @module catalog
 * The owner's view of their CC account: lists and custom fields (paginated GETs, validated with
 * valibot), and a check of every FORMS profile against them, so an unknown list or custom field
 * id is flagged on /admin before a visitor's sign-up is refused for it.
 */
import * as v from 'valibot'
import type { Forms } from './config.ts'

const ListsPage = v.object({
  lists: v.array(v.object({ list_id: v.string(), name: v.string() })),
  _links: v.optional(v.object({ next: v.optional(v.object({ href: v.string() })) })),
})
const FieldsPage = v.object({
  custom_fields: v.array(
    v.object({
      custom_field_id: v.string(),
      name: v.optional(v.string()),
      label: v.optional(v.string()),
    })
  ),
  _links: v.optional(v.object({ next: v.optional(v.object({ href: v.string() })) })),
})

export interface Catalog {
  lists: { list_id: string; name: string }[]
  custom_fields: { custom_field_id: string; name: string; label: string }[]
  fetched_at: string
}

export interface ProfileCheck {
  form_id: string
  unknown_lists: string[]
  unknown_custom_fields: { alias: string; custom_field_id: string }[]
}

/** At most this many pages per collection: 500 lists (limit=50 × 10), far above typical use. */
const MAX_PAGES = 10

/**
 * Follows `_links.next.href`, which CC gives as a path ("/v3/contact_lists?cursor=…"): it is
 * resolved against the API base's origin, and never allowed to point elsewhere.
 */
export async function fetchCatalog(
  apiBase: string,
  get: (url: string) => Promise<{ ok: true; value: unknown } | { ok: false; message: string }>,
  now: number
): Promise<{ ok: true; value: Catalog } | { ok: false; message: string }> {
  const origin = new URL(apiBase).origin
  const lists: Catalog['lists'] = []
  const fields: Catalog['custom_fields'] = []
  const collections = [
    { url: `${apiBase}/contact_lists?limit=50&status=active`, schema: ListsPage },
    { url: `${apiBase}/contact_custom_fields?limit=100`, schema: FieldsPage },
  ] as const
  for (const { url: first, schema } of collections) {
    let url: string | null = first
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const res = await get(url)
      if (!res.ok) return res
      const parsed = v.safeParse(schema as v.GenericSchema, res.value)
      if (!parsed.success)
        return { ok: false, message: 'Constant Contact sent an unexpected list page' }
      const body = parsed.output as v.InferOutput<typeof ListsPage> &
        v.InferOutput<typeof FieldsPage>
      if (body.lists) lists.push(...body.lists.map((l) => ({ list_id: l.list_id, name: l.name })))
      if (body.custom_fields) {
        fields.push(
          ...body.custom_fields.map((f) => ({
            custom_field_id: f.custom_field_id,
            name: f.name ?? '',
            label: f.label ?? f.name ?? '',
          }))
        )
      }
      const next: string | undefined = body._links?.next?.href
      url = next ? new URL(next, origin).toString() : null
      if (url && new URL(url).origin !== origin) url = null
    }
  }
  return {
    ok: true,
    value: { lists, custom_fields: fields, fetched_at: new Date(now).toISOString() },
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
