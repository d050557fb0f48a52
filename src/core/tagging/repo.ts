/**
 * @module core/tagging/repo
 * Storage interface for pending taggings: the tags a delivered sign-up's contact still has to get,
 * and the taggings CC refused (dead letters of kind "tagging"). They are recorded by the outbox's
 * `delivered` write (outbox/repo.ts `ContactToTag`), in the same step. Both adapters implement it
 * atomically; docs/storage.md describes what is kept.
 */
import type { DeliveryError } from '../outbox/repo.ts'

/** One contact's tagging, as a claim hands it out. */
export interface PendingTagging {
  id: number
  formId: string
  contactId: string
  attempts: number
  createdAt: number
}

/** Taggings that share one tag set, leased together: one call to CC adds the tags to them all. */
export interface TaggingBatch {
  tagIds: string[]
  items: PendingTagging[]
}

export interface TaggingDeadLetter {
  id: number
  formId: string
  emailMasked: string
  tagIds: string[]
  createdAt: number
  deadAt: number
  error: DeliveryError | null
  /** Every attempt, the refusal included. */
  attempts: number
}

/** Running counts, never a scan. */
export interface TaggingCounts {
  pending: number
  dead: number
}

/** Storage for taggings (docs/storage.md). Each method is atomic. */
export interface TaggingRepo {
  /**
   * Finds the earliest due pending tagging (relay/store-rules.ts `dueAt` ≤ `now`) and leases it
   * until `leaseUntil` together with every other pending one of its tag set that is due by
   * `gatherUntil`, earliest first, `limit` at most. Null when none is due.
   */
  claimBatch(
    now: number,
    gatherUntil: number,
    leaseUntil: number,
    limit: number
  ): Promise<TaggingBatch | null>
  /** CC took them: deleted. */
  applied(ids: number[]): Promise<void>
  /** Ends the leases; due again at `nextAttemptAt`. A null error keeps the last one. */
  reschedule(
    ids: number[],
    nextAttemptAt: number,
    attempts: number,
    error: DeliveryError | null
  ): Promise<void>
  /** CC refused them for good: dead letters. */
  kill(ids: number[], error: DeliveryError, now: number): Promise<void>
  /** The owner's Retry: dead letter(s) pending again, due now, attempts reset. Returns how many. */
  revive(id: number | 'all', now: number): Promise<number>
  /** Deletes a dead letter; false when `id` is not one. */
  removeDead(id: number): Promise<boolean>
  /** Newest first (ties: higher id first). */
  deadLetters(limit: number): Promise<TaggingDeadLetter[]>
  /** Deletes dead letters that died before `before`; returns how many. */
  purgeDead(before: number): Promise<number>
  /** The earliest `dueAt` of a pending tagging, or null when none is pending. */
  nextDueAt(): Promise<number | null>
  counts(): Promise<TaggingCounts>
}
