/**
 * @module core/tagging/queue-rules
 * The rules of the tagging queue as pure functions, so SQLite and Deno KV apply the same ones:
 * how a delivered sign-up becomes pending taggings, and what a claim and the owner see of them.
 * Due times, retries and dead letters follow the outbox's rules (relay/store-rules.ts `dueAt`,
 * `rescheduled`, `killed`, `revived`), which apply to any `QueuedRecord`.
 */
import type { ContactToTag } from '../outbox/repo.ts'
import type { QueuedRecord } from '../relay/store-rules.ts'
import type { PendingTagging, TaggingDeadLetter } from './repo.ts'

/**
 * A tagging waits this long after it is recorded, so that the sign-ups of a burst gather and go
 * to CC in one call: when the first is due, the others of its tag set ride along
 * (TaggingRepo `claimBatch`). Under steady load a tag set costs about one request per window.
 */
export const TAGGING_GATHER_MS = 2_000
/** CC's limits for one contacts_taggings_add call (docs/constant-contact.md §13). */
export const CONTACTS_PER_TAGGING = 500
export const TAGS_PER_TAGGING = 50

/** A tagging as stored: a Deno KV value, or one row of the SQLite `taggings` table. */
export interface TaggingRecord extends QueuedRecord {
  id: number
  formId: string
  contactId: string
  /** Sorted, without repeats: the tag set. */
  tagIds: string[]
  /** `tagKey(tagIds)`: taggings with the same key go to CC together. */
  tagKey: string
  emailMasked: string
  createdAt: number
}

export type UnsavedTaggingRecord = Omit<TaggingRecord, 'id'>

export function tagKey(tagIds: readonly string[]): string {
  return tagIds.join(',')
}

/**
 * The pending taggings a delivered sign-up leaves: one per 50 of its tags (two merged sign-ups
 * may carry more than a form may have), due once the gathering window has passed.
 */
export function taggingRecords(toTag: ContactToTag, now: number): UnsavedTaggingRecord[] {
  const tags = [...new Set(toTag.tagIds)].sort()
  const records: UnsavedTaggingRecord[] = []
  for (let i = 0; i < tags.length; i += TAGS_PER_TAGGING) {
    const tagIds = tags.slice(i, i + TAGS_PER_TAGGING)
    records.push({
      formId: toTag.formId,
      contactId: toTag.contactId,
      tagIds,
      tagKey: tagKey(tagIds),
      emailMasked: toTag.emailMasked,
      status: 'pending',
      attempts: 0,
      createdAt: now,
      nextAttemptAt: now + TAGGING_GATHER_MS,
      leaseUntil: null,
      lastError: null,
      deadAt: null,
    })
  }
  return records
}

export function toPendingTagging(record: TaggingRecord): PendingTagging {
  const { id, formId, contactId, attempts, createdAt } = record
  return { id, formId, contactId, attempts, createdAt }
}

export function toTaggingDeadLetter(record: TaggingRecord): TaggingDeadLetter {
  return {
    id: record.id,
    formId: record.formId,
    emailMasked: record.emailMasked,
    tagIds: record.tagIds,
    createdAt: record.createdAt,
    deadAt: record.deadAt ?? record.createdAt,
    error: record.lastError,
    attempts: record.attempts,
  }
}
