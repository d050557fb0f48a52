/**
 * @module core/forms/forms
 * Forms made in the dashboard, apart from HTTP: checking a profile, describing a change for the
 * audit trail, and `FormDirectory`, which finds the profile a sign-up is checked against. Each
 * isolate keeps copies of dashboard forms, checked by revision on every `submit()`, so an accepted
 * sign-up costs no extra Durable Object call (docs/architecture.md, "Forms made in the dashboard").
 */
import * as v from 'valibot'
import type { Config } from '../app/config.ts'
import { AppError } from '../app/errors.ts'
import { type Catalog, takesText } from '../cc/catalog.ts'
import { type FieldTypes, signupFormCanSet } from '../cc/field-types.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { profileFor } from '../signup/accept-signup.ts'
import { FORM_ID, type FormProfile, FormProfileSchema, PROFILE_ENTRIES } from './profile.ts'
import type { StoredForm } from './repo.ts'

export type FieldProblems = Record<string, string>

/** A body against the FORMS schema: the profile, or each bad field by its dot path. */
export function parseProfile(
  input: unknown
): { ok: true; profile: FormProfile } | { ok: false; fields: FieldProblems } {
  const result = v.safeParse(FormProfileSchema, input)
  if (result.success) return { ok: true, profile: result.output }
  const fields: FieldProblems = {}
  for (const issue of result.issues) fields[v.getDotPath(issue) ?? 'profile'] ??= issue.message
  return { ok: false, fields }
}

/**
 * The profile against the account: every list, custom field and tag must exist, and a custom
 * field must be of a type sign_up_form can set. Returns the problems, and the types of the fields.
 */
export function catalogProblems(
  profile: FormProfile,
  catalog: Catalog
): { fields: FieldProblems; types: FieldTypes } {
  const fields: FieldProblems = {}
  const types: FieldTypes = {}
  const lists = new Set(catalog.lists.map((l) => l.list_id.toLowerCase()))
  const known = new Map(catalog.custom_fields.map((f) => [f.custom_field_id.toLowerCase(), f]))
  for (const key of ['lists', 'optional_lists'] as const) {
    profile[key]?.forEach((id, i) => {
      if (!lists.has(id.toLowerCase())) fields[`${key}.${i}`] = 'Constant Contact has no such list'
    })
  }
  const tags = new Set(catalog.tags.map((t) => t.tag_id.toLowerCase()))
  profile.tags?.forEach((id, i) => {
    if (!tags.has(id.toLowerCase())) fields[`tags.${i}`] = 'Constant Contact has no such tag'
  })
  // Where a sign-up came from is text (a URL, a campaign name): only text fields take it.
  for (const [key, id] of Object.entries(profile.capture ?? {})) {
    if (id === undefined) continue
    const field = known.get(id.toLowerCase())
    if (!field) fields[`capture.${key}`] = 'Constant Contact has no such custom field'
    else if (!takesText(field.type))
      fields[`capture.${key}`] = `is a ${field.type || 'untyped'} field; it must take text`
  }
  for (const [alias, id] of Object.entries(profile.custom_fields ?? {})) {
    const field = known.get(id.toLowerCase())
    if (!field) fields[`custom_fields.${alias}`] = 'Constant Contact has no such custom field'
    else if (!signupFormCanSet(field.type))
      fields[`custom_fields.${alias}`] =
        `is a ${field.type} field, which sign_up_form cannot set (it takes no choice_ids)`
    else types[id.toLowerCase()] = { type: field.type, ...field.metadata }
  }
  return { fields, types }
}

const MAX_CHANGE = 200
const shown = (value: unknown) =>
  value === undefined ? '(none)' : JSON.stringify(value).slice(0, MAX_CHANGE)

/** What changed from `before` to `after` (null: absent), one line per change, for the audit. */
export function describeChanges(before: FormProfile | null, after: FormProfile | null): string[] {
  const changes: string[] = []
  const from = (before ?? {}) as Record<string, unknown>
  const to = (after ?? {}) as Record<string, unknown>
  for (const key of Object.keys(PROFILE_ENTRIES)) {
    const [a, b] = [from[key], to[key]]
    if (JSON.stringify(a) === JSON.stringify(b)) continue
    if (Array.isArray(a ?? b)) {
      const [was, is] = [new Set(a as string[]), new Set(b as string[])]
      const diff = [...is]
        .filter((x) => !was.has(x))
        .map((x) => `+${x}`)
        .concat([...was].filter((x) => !is.has(x)).map((x) => `−${x}`))
      changes.push(`${key}: ${diff.join(' ')}`)
    } else if (['custom_fields', 'messages', 'fields', 'labels'].includes(key)) {
      const [was, is] = [(a ?? {}) as Record<string, unknown>, (b ?? {}) as Record<string, unknown>]
      for (const name of new Set([...Object.keys(was), ...Object.keys(is)])) {
        if (was[name] !== is[name])
          changes.push(`${key}.${name}: ${shown(was[name])} → ${shown(is[name])}`)
      }
    } else {
      changes.push(`${key}: ${shown(a)} → ${shown(b)}`)
    }
  }
  return changes.map((c) => c.slice(0, MAX_CHANGE))
}

/** The profile a sign-up is checked against. */
export interface FormEntry {
  id: string
  profile: FormProfile
  /** CC's types of its custom fields (dashboard forms saved with the catalog reachable). */
  types: FieldTypes
  /** A dashboard form: the revision of this copy, for submit() to confirm. */
  revision?: number
  /** From FORMS, or read from the object during this request: nothing to confirm. */
  current: boolean
}

const NO_TYPES: FieldTypes = {}

function entry(form: StoredForm, current: boolean): FormEntry {
  return { id: form.id, profile: form.profile, types: form.types, revision: form.revision, current }
}

/** See the module comment. One per app (so per isolate on Workers, per instance on Deno). */
export class FormDirectory {
  readonly #backend: () => RelayBackend
  /** Dashboard forms by id; bounded by the forms the owner made. Unknown ids are not kept. */
  readonly #copies = new Map<string, StoredForm>()

  constructor(backend: () => RelayBackend) {
    this.#backend = backend
  }

  /** FORMS first; then the copy of a dashboard form; else the object, and the copy kept. */
  async find(config: Config, id: string): Promise<FormEntry | null> {
    const configured = profileFor(config, id)
    if (configured) return { id, profile: configured, types: NO_TYPES, current: true }
    const copy = this.#copies.get(id)
    return copy ? entry(copy, false) : this.reload(id)
  }

  /** The form as the object has it now (the copy replaced). */
  async reload(id: string): Promise<FormEntry | null> {
    return this.remember(id, FORM_ID.test(id) ? await this.#backend().form(id) : null)
  }

  /** Replaces the copy with what the object answered (null: there is no such form). */
  remember(id: string, form: StoredForm | null): FormEntry | null {
    if (form) this.#copies.set(id, form)
    else this.#copies.delete(id)
    return form && entry(form, true)
  }
}

/** One try at something that depends on a form's profile. */
export type Attempt<T> =
  /** `confirmed`: the object checked the copy's revision (submit), or no profile mattered. */
  | { done: T; confirmed: boolean }
  /** The object says the copy is stale; here is the form as it is now. */
  | { stale: StoredForm | null }

/**
 * Runs `attempt` until its result rests on the form's current profile. At most three tries (a
 * form edited twice while one sign-up was being accepted): then an unconfirmed result stands,
 * and a third stale copy is `unavailable` (nothing was accepted).
 */
export async function withCurrentForm<T>(
  directory: FormDirectory,
  config: Config,
  id: string,
  attempt: (form: FormEntry | null) => Promise<Attempt<T>>
): Promise<T> {
  let form = await directory.find(config, id)
  for (let tries = 1; ; tries++) {
    const result = await attempt(form)
    if ('stale' in result) {
      if (tries === 3) throw new AppError('unavailable', 'The form kept changing; try again')
      form = directory.remember(id, result.stale)
      continue
    }
    if (result.confirmed || !form || form.current || tries === 3) return result.done
    const now = await directory.reload(id)
    if (now?.revision === form.revision) return result.done
    form = now
  }
}
