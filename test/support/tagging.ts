/**
 * Tagged sign-ups for the workerd and Deno suites (web-standard only). A sign-up carries its
 * form's tags as `Submission.tags`; these build one as acceptSignup builds a sign-up of the
 * tests' newsletter form, with the tags given, and hand it to the single writer's `submit`.
 */
import { hashKey } from '../../src/core/lib/hash-key.ts'
import { payloadDigest } from '../../src/core/outbox/repeats.ts'
import type { Submission } from '../../src/core/outbox/submit.ts'
import type { CcModel } from '../../src/sandbox/model.ts'
import { LIST_1 } from './network.ts'

export const TAGGING_PATH = '/v3/activities/contacts_taggings_add'

let clients = 0

/** A sign-up of `email` to the newsletter form with `tags`, from a network of its own. */
export async function taggedSubmission(
  email: string,
  tags: string[],
  formId = 'newsletter'
): Promise<Submission> {
  const payload = { email_address: email, list_memberships: [LIST_1] }
  return {
    formId,
    payload,
    emailHash: await hashKey(formId, email),
    clientKey: await hashKey('net', `198.51.100.${++clients % 250}`),
    digest: await payloadDigest(payload),
    tags,
  }
}

/** The tagging calls that reached the model of CC. */
export function taggingCalls(cc: CcModel) {
  return cc.apiCalls.filter((c) => c.method === 'POST' && c.path === TAGGING_PATH)
}

/** The tags the model of CC holds for `email` (undefined: no such contact). */
export function tagsOf(cc: CcModel, email: string): string[] | undefined {
  return cc.contacts.get(email)?.tag_ids.toSorted()
}

/** Arrival times of every request to CC's API, all endpoints together. */
export function apiArrivals(cc: CcModel): number[] {
  return [...cc.signupCalls, ...cc.apiCalls].map((c) => c.at)
}
