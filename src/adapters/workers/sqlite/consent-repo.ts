/**
 * @module adapters/workers/sqlite/consent-repo
 * Consent receipts in the Durable Object's SQLite (migration 7): `consent_texts`, once per
 * version of a statement, and `consent_receipts`, which refer to them. `writeReceipt` is also the
 * outbox's, so a queued or dead-lettered sign-up's receipt joins its write.
 */

import type { ConsentPage, ConsentReceipt } from '../../../core/consent/receipt.ts'
import type { ConsentRepo } from '../../../core/consent/repo.ts'

type ReceiptRow = {
  id: number
  form_id: string
  email: string
  given_at: number
  text: string
  sha256: string
  origin: string | null
  page: string | null
  network: string
}

const SELECT = `SELECT r.id, r.form_id, r.email, r.given_at, t.text, t.sha256, r.origin, r.page,
  r.network FROM consent_receipts r JOIN consent_texts t ON t.id = r.text_id`

function fromRow(row: ReceiptRow): ConsentReceipt {
  return {
    form: row.form_id,
    email: row.email,
    givenAt: row.given_at,
    text: row.text,
    textSha256: row.sha256,
    origin: row.origin,
    page: row.page,
    network: row.network,
  }
}

/** Stores `receipt` (nothing when undefined), and its text unless that version is stored. */
export function writeReceipt(sql: SqlStorage, receipt: ConsentReceipt | undefined): void {
  if (!receipt) return
  sql.exec(
    'INSERT INTO consent_texts (sha256, text) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING',
    receipt.textSha256,
    receipt.text
  )
  sql.exec(
    `INSERT INTO consent_receipts (form_id, email, given_at, text_id, origin, page, network)
     SELECT ?, ?, ?, id, ?, ?, ? FROM consent_texts WHERE sha256 = ?`,
    receipt.form,
    receipt.email,
    receipt.givenAt,
    receipt.origin,
    receipt.page,
    receipt.network,
    receipt.textSha256
  )
}

export class SqlConsentRepo implements ConsentRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  #rows<T extends Record<string, SqlStorageValue>>(
    query: string,
    ...params: SqlStorageValue[]
  ): T[] {
    return this.#sql.exec<T>(query, ...params).toArray()
  }

  async record(receipt: ConsentReceipt): Promise<void> {
    writeReceipt(this.#sql, receipt)
  }

  async receiptsOf(email: string): Promise<ConsentReceipt[]> {
    return this.#rows<ReceiptRow>(
      `${SELECT} WHERE r.email = ? ORDER BY r.given_at DESC, r.id DESC`,
      email
    ).map(fromRow)
  }

  /** The cursor is the last receipt's `given_at:id`, the order's key. */
  async between(from: number, to: number, limit: number, after?: string): Promise<ConsentPage> {
    const [afterAt, afterId] = after ? after.split(':').map(Number) : [from, 0]
    // One more than asked for tells whether another page follows.
    const rows = this.#rows<ReceiptRow>(
      `${SELECT} WHERE r.given_at >= ? AND r.given_at < ? AND (r.given_at, r.id) > (?, ?)
       ORDER BY r.given_at, r.id LIMIT ?`,
      from,
      to,
      afterAt,
      afterId,
      limit + 1
    )
    const page = rows.slice(0, limit)
    const last = page.at(-1)
    return {
      receipts: page.map(fromRow),
      next: rows.length > limit && last ? `${last.given_at}:${last.id}` : null,
    }
  }

  async countsByForm(): Promise<Record<string, number>> {
    const rows = this.#rows<{ form_id: string; receipts: number }>(
      'SELECT form_id, receipts FROM consent_counts WHERE receipts > 0 ORDER BY form_id'
    )
    return Object.fromEntries(rows.map((row) => [row.form_id, row.receipts]))
  }

  async erase(email: string): Promise<number> {
    return this.#delete('email = ?', email)
  }

  async purge(before: number): Promise<number> {
    return this.#delete('given_at < ?', before)
  }

  /**
   * Deletes the receipts `where` selects, then the texts they referred to that no receipt refers
   * to any more: one synchronous step, so no receipt is written in between.
   */
  #delete(where: string, value: SqlStorageValue): number {
    const texts = this.#rows<{ text_id: number }>(
      `SELECT DISTINCT text_id FROM consent_receipts WHERE ${where}`,
      value
    )
    if (texts.length === 0) return 0
    // Counted by RETURNING: rowsWritten also counts what the triggers wrote.
    const gone = this.#rows(
      `DELETE FROM consent_receipts WHERE ${where} RETURNING id`,
      value
    ).length
    for (const { text_id } of texts) {
      this.#sql.exec(
        `DELETE FROM consent_texts WHERE id = ?
         AND NOT EXISTS (SELECT 1 FROM consent_receipts WHERE text_id = ?)`,
        text_id,
        text_id
      )
    }
    return gone
  }
}
