/**
 * @module core/owner/notices
 * What an owner page says after an action redirected to it (`?notice=<key>`): the keys are part
 * of the redirects' Location, which scripts may read; the words are for the owner.
 */
import type { Context } from 'hono'
import type { AppEnv } from '../app/app-env.ts'

const NOTICES: Record<string, string> = {
  connected: 'Connected to Constant Contact.',
  disconnected:
    'Disconnected. The tokens stored here are gone; the grant at Constant Contact is not revoked.',
  retrying: 'Sent again: the sign-up is waiting to send.',
  retry_full:
    'Nothing was sent again: as many sign-ups are waiting to send as the relay keeps (OUTBOX_MAX_PENDING).',
  deleted: 'The failed sign-up is deleted.',
  form_saved: 'Form saved. It takes sign-ups from now on.',
  form_deleted: 'Form deleted.',
  origin_added: 'Origin added: sign-ups from that site are accepted from now on.',
}

/** The notice a redirect named, and for a replay that hit the cap, how many are still waiting. */
export function noticeOf(c: Context<AppEnv>): string | undefined {
  const notice = NOTICES[c.req.query('notice') ?? '']
  const waiting = c.req.query('waiting') ?? ''
  const left = /^\d{1,9}$/.test(waiting) ? Number(waiting) : 0
  if (!notice || left === 0) return notice
  const letters = left === 1 ? '1 failed sign-up is' : `${left} failed sign-ups are`
  return `${notice} ${letters} still waiting: the relay keeps at most OUTBOX_MAX_PENDING (${c.var.config.OUTBOX_MAX_PENDING}) waiting to send. Retry them once those are sent.`
}
