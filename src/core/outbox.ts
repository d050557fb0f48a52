/**
 * @module outbox
 * Pure delivery policy: how to read Constant Contact's answer to sign_up_form, how to merge
 * queued duplicates, the pacing window and the UTC day. No I/O here; delivery.ts does it.
 */
import * as v from 'valibot'
import type { SignUpFormBody } from './signup.ts'

export type CcOutcome =
  | { kind: 'delivered'; status: number; action?: string }
  /** The token was rejected: refresh once, then retry once. */
  | { kind: 'unauthorized'; status: number }
  /** Per-second limit hit: back off briefly. */
  | { kind: 'throttled'; status: number }
  /** Daily quota used up: park until 00:00 UTC. */
  | { kind: 'quota_exceeded'; status: number }
  /** 5xx, 409, 429 without a known key, network errors, timeouts: retry with backoff. */
  | { kind: 'retry'; status: number; errorKey: string; message: string }
  /** 400 and other 4xx: retrying the same body cannot help. */
  | { kind: 'dead'; status: number; errorKey: string; message: string }

const ErrorItem = v.object({
  error_key: v.optional(v.string()),
  error_message: v.optional(v.string()),
})
/** CC error bodies are an array normally, and a single object on 401 and 429 (reference §5). */
const ErrorBody = v.union([v.array(ErrorItem), ErrorItem])

export function parseCcError(body: unknown): { errorKey: string; message: string } {
  const parsed = v.safeParse(ErrorBody, body)
  if (!parsed.success) return { errorKey: 'unknown', message: '' }
  const first = Array.isArray(parsed.output) ? parsed.output[0] : parsed.output
  return { errorKey: first?.error_key ?? 'unknown', message: first?.error_message ?? '' }
}

const SuccessBody = v.object({ contact_id: v.optional(v.string()), action: v.optional(v.string()) })

export function classifyCcResponse(status: number, body: unknown): CcOutcome {
  if (status === 200 || status === 201) {
    const parsed = v.safeParse(SuccessBody, body)
    return { kind: 'delivered', status, action: parsed.success ? parsed.output.action : undefined }
  }
  const { errorKey, message } = parseCcError(body)
  if (status === 401) return { kind: 'unauthorized', status }
  if (status === 429 && errorKey === 'quota_exceeded') return { kind: 'quota_exceeded', status }
  if (status === 429) return { kind: 'throttled', status }
  if (status >= 500 || status === 409 || status === 408) {
    return { kind: 'retry', status, errorKey, message }
  }
  return { kind: 'dead', status, errorKey, message }
}

/**
 * sign_up_form is an upsert that appends lists and custom fields, so two queued sign-ups of one
 * email to one form become one: later scalar values win, lists and custom fields are unioned.
 */
export function mergePayloads(older: SignUpFormBody, newer: SignUpFormBody): SignUpFormBody {
  const lists = [...new Set([...older.list_memberships, ...newer.list_memberships])]
  const custom = new Map<string, string>()
  for (const f of [...(older.custom_fields ?? []), ...(newer.custom_fields ?? [])]) {
    custom.set(f.custom_field_id, f.value)
  }
  const merged: SignUpFormBody = { ...older, ...newer, list_memberships: lists.slice(0, 50) }
  if (custom.size > 0) {
    merged.custom_fields = [...custom].map(([custom_field_id, value]) => ({
      custom_field_id,
      value,
    }))
  }
  return merged
}

export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10)
}

export function nextUtcMidnight(now: number): number {
  const d = new Date(now)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
}

/**
 * CC counts requests as they arrive; network jitter can bunch requests sent 250 ms apart. A
 * window slightly longer than a second keeps any 1-second window at CC within the limit, at a
 * cost of 5% of the rate (4 per 1.05 s = 3.8/s).
 */
export const PACE_WINDOW_MS = 1050

/** A sliding-window limiter: at most `perSecond` sends in any PACE_WINDOW_MS. */
export class Pacer {
  readonly #sent: number[] = []
  readonly #perSecond: number

  constructor(perSecond: number) {
    this.#perSecond = perSecond
  }

  #prune(now: number) {
    while (this.#sent.length > 0 && this.#sent[0] <= now - PACE_WINDOW_MS) this.#sent.shift()
  }

  available(now: number): number {
    this.#prune(now)
    return Math.max(0, this.#perSecond - this.#sent.length)
  }

  /** Takes a slot synchronously (before any await), so concurrent senders never overshoot. */
  tryAcquire(now: number): boolean {
    if (this.available(now) === 0) return false
    this.#sent.push(now)
    return true
  }

  /** When the next slot frees up. */
  nextFreeAt(now: number): number {
    this.#prune(now)
    return this.#sent.length < this.#perSecond ? now : this.#sent[0] + PACE_WINDOW_MS
  }
}

const RETRY_BASE_MS = 5_000
const RETRY_MAX_MS = 60 * 60_000

/** Exponential backoff with jitter, capped at an hour: retries go on until delivered. */
export function retryDelay(attempts: number, random = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1))
  return Math.round(base / 2 + (random() * base) / 2)
}

/** Masks an address for the owner's view: "jane.doe@example.com" → "j•••e@example.com". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@')
  if (at < 1) return '•••'
  const local = email.slice(0, at)
  const shown = local.length <= 2 ? `${local[0]}•••` : `${local[0]}•••${local[local.length - 1]}`
  return `${shown}${email.slice(at)}`
}

/** A stable, non-reversible-at-a-glance key for logs and duplicate detection. */
export async function hashKey(...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(parts.join('\0')))
  return [...new Uint8Array(digest).slice(0, 12)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
}
