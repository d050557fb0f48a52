/**
 * @module core/tagging/tags
 * The account's tags as the owner makes them: the rule for a tag's name, and what CC's answer to
 * a new tag means (docs/constant-contact.md §13).
 */
import * as v from 'valibot'
import type { Outcome } from '../app/errors.ts'
import { type OwnerAnswer, ownerRefusal } from '../cc/api.ts'
import { type CcTag, processCreatedTag } from '../cc/client.ts'

/** CC's rule: 1 to 255 characters, no `<` or `>`; one line, trimmed, is ours. */
export const TagNameSchema = v.pipe(
  v.string('must be text'),
  v.trim(),
  v.nonEmpty('must not be empty'),
  v.maxLength(255, 'must be at most 255 characters'),
  v.regex(/^[^<>\p{Cc}\u2028\u2029]*$/u, 'must be one line, without < or >')
)

export function tagExists(name: string): Outcome<never> {
  return { ok: false, code: 'tag_exists', message: `A tag named "${name}" exists already` }
}

/** A name taken in the account, compared without case (as the model of CC does). */
export function tagNamed(tags: readonly CcTag[], name: string): CcTag | undefined {
  const wanted = name.toLowerCase()
  return tags.find((t) => t.name.toLowerCase() === wanted)
}

/**
 * CC's answer to `POST /contact_tags` for `name`: the new tag, `tag_exists` for a name taken
 * (CC's spec answers 409), `invalid_input` for another refusal (a 400: a name CC will not take,
 * or an account at its 500 tags), else `unavailable`.
 */
export function createdTag(name: string, answer: OwnerAnswer): Outcome<CcTag> {
  if (!answer.ok) return answer
  const { outcome } = answer
  if (outcome.kind === 'delivered') {
    const tag = processCreatedTag(answer.body)
    return tag
      ? { ok: true, value: tag }
      : { ok: false, code: 'unavailable', message: 'Constant Contact answered with no tag' }
  }
  if (outcome.status === 409) return tagExists(name)
  if (outcome.kind === 'dead' && outcome.status === 400) {
    const because = outcome.message ? `: ${outcome.message}` : ''
    return { ok: false, code: 'invalid_input', message: `Constant Contact refused it${because}` }
  }
  return { ok: false, code: 'unavailable', message: ownerRefusal(outcome.status) }
}
