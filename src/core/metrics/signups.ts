/**
 * @module core/metrics/signups
 * The recent activity as the owner reads it: one row per sign-up, with what became of it in the
 * owner's words and why. A queued sign-up leaves a line per event (accepted, retried, delivered
 * or dead lettered), each linked to its outbox item (`ActivityEntry.signup`); an inline delivery
 * and every refusal leave one. Pure: lines in, rows out.
 */
import type { ActivityEntry, EventOutcome } from './metrics.ts'

/** One sign-up: when it came in, and its latest outcome. */
export interface SignupRow {
  /** When it came in (its first line). */
  at: number
  form: string
  email: string | null
  outcome: EventOutcome
  reason: string | null
  /** Acceptance to delivery, once delivered. */
  latencyMs: number | null
  /** When its latest outcome happened. */
  updatedAt: number
}

/** What the owner filters by: where a sign-up ended, in their words. */
export const STATUSES = ['sent', 'waiting', 'failed', 'refused', 'repeat'] as const
export type SignupStatus = (typeof STATUSES)[number]

export const STATUS_LABELS: Record<SignupStatus, string> = {
  sent: 'Sent to Constant Contact',
  waiting: 'Waiting to send',
  failed: 'Failed',
  refused: 'Refused',
  repeat: 'Repeat, not sent again',
}

const STATUS_OF: Record<EventOutcome, SignupStatus> = {
  delivered: 'sent',
  accepted: 'waiting',
  retried: 'waiting',
  dead_lettered: 'failed',
  duplicate: 'repeat',
  invalid_input: 'refused',
  honeypot: 'refused',
  rate_limited: 'refused',
  challenge_failed: 'refused',
  origin_not_allowed: 'refused',
  outbox_full: 'refused',
}

export const statusOf = (outcome: EventOutcome): SignupStatus => STATUS_OF[outcome]

/**
 * Lines (newest first, as the store reads them) into rows (newest sign-up first): the lines of
 * one outbox item are one row, at its oldest line's time, with its newest line's outcome.
 */
export function signupRows(lines: readonly ActivityEntry[]): SignupRow[] {
  const rows: SignupRow[] = []
  const byItem = new Map<number, SignupRow>()
  for (const line of lines) {
    const row = line.signup === null ? undefined : byItem.get(line.signup)
    if (!row) {
      const fresh: SignupRow = {
        at: line.at,
        form: line.form,
        email: line.email,
        outcome: line.outcome,
        reason: line.reason,
        latencyMs: line.latencyMs,
        updatedAt: line.at,
      }
      rows.push(fresh)
      if (line.signup !== null) byItem.set(line.signup, fresh)
      continue
    }
    // An older line of a sign-up already seen: it only moves the row back to its start.
    row.at = line.at
    row.email ??= line.email
  }
  return rows.sort((a, b) => b.at - a.at)
}

/** The owner's words for what a field check refused (validate-signup.ts `FieldProblem`). */
const PROBLEM_TEXT: Record<string, string> = {
  emailMissing: 'no email address',
  emailInvalid: 'not an email address',
  notAllowed: 'characters that are not allowed',
  unknownList: 'not one of this form’s lists',
  chooseList: 'no list chosen',
  tooManyLists: 'more than 50 lists',
  consentRequired: 'consent box not ticked',
  unknownField: 'not one of this form’s fields',
  month: 'not a month',
  day: 'not a day',
  monthMissing: 'day without a month',
  dayMissing: 'month without a day',
  noSuchDay: 'no such day in that month',
  dateFormat: 'not a date',
  noSuchDate: 'no such date',
  token: 'bad verification token',
  tooLong: 'too long',
  trueFalse: 'not true or false',
  number: 'not a number',
  wholeNumber: 'not a whole number',
  decimals: 'too many decimals',
  negative: 'a negative number',
}

/** A field name as it may be kept: a visitor chose it, so it is bounded and plain. */
export const safeFieldName = (name: string) => name.replace(/[^\w.-]/g, '_').slice(0, 40)

/**
 * An invalid sign-up's reason: each refused field and its check, "email:emailInvalid list:…"
 * (at most 5; never a value the visitor typed).
 */
export function fieldsReason(problems: Record<string, string>): string {
  return Object.entries(problems)
    .slice(0, 5)
    .map(([field, problem]) => `${safeFieldName(field)}:${problem}`)
    .join(' ')
}

/** "Refused: email — not an email address": the status of a row, with its reason, in words. */
export function statusText(row: Pick<SignupRow, 'outcome' | 'reason'>): string {
  const { outcome, reason } = row
  switch (outcome) {
    case 'delivered':
      return STATUS_LABELS.sent
    case 'accepted':
      return STATUS_LABELS.waiting
    case 'retried':
      return `${STATUS_LABELS.waiting} (tried: ${reason ? `Constant Contact answered ${reason}` : 'not yet'})`
    case 'dead_lettered':
      return `${STATUS_LABELS.failed}: ${reason ? `Constant Contact answered ${reason}` : 'Constant Contact refused it'}`
    case 'duplicate':
      return `${STATUS_LABELS.repeat}: the same sign-up came in moments before`
    case 'invalid_input': {
      const fields = (reason ?? '').split(' ').filter(Boolean)
      if (fields.length === 0) return 'Refused: invalid input'
      const words = fields.map((pair) => {
        const cut = pair.lastIndexOf(':')
        const problem = pair.slice(cut + 1)
        return `${pair.slice(0, cut)} — ${PROBLEM_TEXT[problem] ?? problem}`
      })
      return `Refused: ${words.join('; ')}`
    }
    case 'honeypot':
      return 'Refused: bot trap (honeypot)'
    case 'challenge_failed':
      return `Refused: challenge failed${reason ? ` (${reason})` : ''}`
    case 'origin_not_allowed':
      return `Refused: origin ${reason ?? '(unknown)'} is not allowed`
    case 'rate_limited':
      return 'Refused: too many sign-ups from one network'
    case 'outbox_full':
      return 'Refused: too many sign-ups waiting to be sent'
  }
}

/** How CC's answer is kept as a reason: "400 json.field.invalid". */
export const ccReason = (status: number, errorKey: string) => `${status} ${errorKey}`
