/**
 * @module core/consent/receipt
 * Consent receipts (GDPR Art. 7(1): the controller must be able to show what a person agreed to,
 * when, and where). A sign-up whose visitor ticked the form's consent box carries `ConsentGiven`
 * to the single writer, which records the receipt in the same step that accepts the sign-up.
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
