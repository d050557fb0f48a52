/**
 * @module core/consent/receipt
 * Consent receipts (GDPR Art. 7(1): the controller must be able to show what a person agreed to,
 * when, and where). A sign-up whose visitor ticked the form's consent box carries `ConsentGiven`
 * to the single writer, which records the receipt in the same step that accepts the sign-up.
 * Here: the receipt as stored, and as the owner's API and CSV show it.
 */

/** What the stateless side knows of a consent, sent with the sign-up (outbox/submit.ts). */
export interface ConsentGiven {
  /** The exact statement in force when the visitor ticked the box. */
  text: string
  /** Hex SHA-256 of `text`'s UTF-8 bytes: each version of a statement is stored once. */
  textSha256: string
  /** The request's Origin, when it had one. */
  origin: string | null
  /** The page the form was on (`_page`, else the Referer), cut to 255 characters. */
  page: string | null
  /** The client's network key: an IPv4 address or an IPv6 /64 (lib/network-key.ts). */
  network: string
}

/** A receipt as kept: who gave which consent, on which form, and when. */
export interface ConsentReceipt extends ConsentGiven {
  form: string
  /** Lowercased: one person is one address (validation lowercases it already). */
  email: string
  /** The single writer's clock when it accepted the sign-up (epoch ms). */
  givenAt: number
}

/** One page of receipts in a period (ConsentRepo `between`). */
export interface ConsentPage {
  receipts: ConsentReceipt[]
  /** Where the next page starts (opaque to all but the store); null after the last page. */
  next: string | null
}

/** The columns of a receipt in the owner's API and CSV, in that order (README "Consent receipts"). */
export const RECEIPT_COLUMNS = [
  'form',
  'email',
  'given_at',
  'text',
  'text_sha256',
  'origin',
  'page',
  'network',
] as const

export type ReceiptView = Record<(typeof RECEIPT_COLUMNS)[number], string | null>

/** A receipt as the owner's API shows it: snake_case, the time in ISO 8601 UTC. */
export function receiptView(r: ConsentReceipt): ReceiptView {
  return {
    form: r.form,
    email: r.email,
    given_at: new Date(r.givenAt).toISOString(),
    text: r.text,
    text_sha256: r.textSha256,
    origin: r.origin,
    page: r.page,
    network: r.network,
  }
}

/** A receipt as a CSV row: the API's values, in RECEIPT_COLUMNS order. */
export function receiptRow(r: ConsentReceipt): (string | null)[] {
  const view = receiptView(r)
  return RECEIPT_COLUMNS.map((column) => view[column])
}
