/**
 * @module core/consent/repo
 * Storage interface for consent receipts. Each statement's text is stored once per version (by
 * its SHA-256) and receipts refer to it; a text goes when the last receipt that refers to it goes.
 * A receipt is usually written with its sign-up, in the outbox's write (`receipt` of
 * outbox/repo.ts `NewOutboxItem` and `DeadOutboxItem`); `record` is for a sign-up CC took inline,
 * which has no outbox write. Both adapters implement it atomically; docs/storage.md describes
 * what is kept.
 */
import type { ConsentPage, ConsentReceipt } from './receipt.ts'

export interface ConsentRepo {
  /** Stores a receipt, and its text unless that version is stored already. */
  record(receipt: ConsentReceipt): Promise<void>
  /** The receipts of `email` (lowercased), newest first. */
  receiptsOf(email: string): Promise<ConsentReceipt[]>
  /**
   * Receipts given in [from, to), oldest first, at most `limit` of them: `after` is the `next`
   * of the page before (with the same `from` and `to`), null after the last.
   */
  between(from: number, to: number, limit: number, after?: string): Promise<ConsentPage>
  /** How many receipts each form has (forms with none left out): running counts, not a scan. */
  countsByForm(): Promise<Record<string, number>>
  /** Erasure: deletes every receipt of `email` (lowercased); returns how many went. */
  erase(email: string): Promise<number>
  /** Deletes the receipts given before `before` (retention); returns how many went. */
  purge(before: number): Promise<number>
}
