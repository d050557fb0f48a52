/**
 * @module core/outbox/failure-words
 * Why Constant Contact refused a sign-up (or its tagging), in the owner's words: CC's messages
 * name lists, custom fields and tags by id (docs/constant-contact.md, sign_up_form's 400s), so
 * each id the account knows is replaced by its name, and an id it no longer has is called out,
 * since a deleted list or field is the usual cause.
 */
import type { Catalog } from '../cc/catalog.ts'
import type { DeadLetterView } from '../relay/backend.ts'

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
/** An id in CC's message, with the noun before it if any ("List 3a1b…"), which the name replaces. */
const NAMED_ID = new RegExp(`(?:\\b(?:list|custom field|tag) )?(${UUID.source})`, 'gi')

/** "the list “Newsletter”", "the custom field “Source”", "the tag “Website”", or null. */
function named(id: string, catalog: Catalog): string | null {
  const key = id.toLowerCase()
  const list = catalog.lists.find((l) => l.list_id.toLowerCase() === key)
  if (list) return `the list “${list.name}”`
  const field = catalog.custom_fields.find((f) => f.custom_field_id.toLowerCase() === key)
  if (field) return `the custom field “${field.label}”`
  const tag = catalog.tags.find((t) => t.tag_id.toLowerCase() === key)
  if (tag) return `the tag “${tag.name}”`
  return null
}

export interface FailureWords {
  /** What CC said, with the ids it knows named. */
  cause: string
  /** The sign-up's lists or the tagging's tags that the account no longer has. */
  missing: string[]
}

/** What went wrong with a dead letter; without a catalog (not connected) ids stay ids. */
export function failureWords(letter: DeadLetterView, catalog: Catalog | null): FailureWords {
  const what = letter.kind === 'tagging' ? 'tagging the contact' : 'the sign-up'
  const said = letter.error?.message.trim()
  const withNames =
    said && catalog
      ? said.replace(NAMED_ID, (text, id: string) => named(id, catalog) ?? text)
      : said
  const cause = withNames
    ? `Constant Contact refused ${what}: ${withNames}`
    : `Constant Contact refused ${what}.`
  if (!catalog) return { cause, missing: [] }
  const ids = letter.kind === 'tagging' ? (letter.tag_ids ?? []) : (letter.lists ?? [])
  const noun = letter.kind === 'tagging' ? 'tag' : 'list'
  const missing = ids
    .filter((id) => named(id, catalog) === null)
    .map((id) => `a ${noun} your account no longer has (${id})`)
  return { cause, missing }
}
