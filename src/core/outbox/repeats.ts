/**
 * @module core/outbox/repeats
 * Repeated sign-ups of one address to one form: when two say the same (their digest), and how two
 * queued ones merge.
 */
import { hashKey } from '../lib/hash-key.ts'
import type { SignupFormBody } from '../signup/validate-signup.ts'

/**
 * sign_up_form is an upsert that appends lists and custom fields, so two queued sign-ups of one
 * email to one form become one: later scalar values win, lists and custom fields are unioned.
 */
export function mergePayloads(older: SignupFormBody, newer: SignupFormBody): SignupFormBody {
  const lists = [...new Set([...older.list_memberships, ...newer.list_memberships])]
  const custom = new Map<string, string>()
  for (const f of [...(older.custom_fields ?? []), ...(newer.custom_fields ?? [])]) {
    custom.set(f.custom_field_id, f.value)
  }
  const merged: SignupFormBody = { ...older, ...newer, list_memberships: lists.slice(0, 50) }
  if (custom.size > 0) {
    merged.custom_fields = [...custom].map(([custom_field_id, value]) => ({
      custom_field_id,
      value,
    }))
  }
  return merged
}

/**
 * What a sign-up says, as a digest: the duplicate window absorbs only a repeat that says the same.
 * validate-signup.ts builds every body in one fixed key order, so the same fields give the same
 * JSON, whatever order the visitor sent them in. `more`: what else the sign-up says that is not
 * in the body (a given consent); absent parts leave the digest as it was before they existed.
 */
export function payloadDigest(
  payload: SignupFormBody,
  ...more: (string | undefined)[]
): Promise<string> {
  const extra = more.filter((part) => part !== undefined)
  return hashKey('payload', JSON.stringify(payload), ...extra)
}
