/**
 * @module adapters/deno/kv/keys
 * The key layout of Deno KV (documented in docs/deno.md), and the keys the repos, the
 * migrations and kv-limits.ts name:
 *   ['schema_version']                           the version `migrate` brought the keys to
 *   ['connection']                               the token set (ConnectionRecord)
 *   ['refresh_lease']                            { holder, until }: who may call the token endpoint
 *   ['oauth_state', state]                       an issued OAuth state, and when it was used
 *   ['outbox_seq']                               the last outbox id handed out
 *   ['outbox', id]                               an outbox item (pending or dead), payload included
 *   ['outbox_due', max(nextAttemptAt, leaseUntil), id]   pending items by due time → createdAt
 *   ['outbox_key', formId, emailHash, id]        pending items by form and email (for merging)
 *   ['outbox_dead', deadAt, id]                  dead letters by time of death
 *   ['outbox_since', createdAt, id]              pending items by acceptance time (the oldest)
 *   ['outbox_count', 'pending' | 'dead', 'in' | 'out']   Deno.KvU64 running counts (below)
 *   ['backlog_level']                            the backlog alarm's level (0, 50 or 90)
 *   ['daily_stats', day, 'cc_requests' | 'delivered']    Deno.KvU64 counters per UTC day
 *   ['delivery_blocks']                          { pausedUntil, parkedUntil }
 *   ['recent_submissions', key]                  { at, status, digest } of the last accepted form+email
 *   ['alerts', event]                            an alert kind's coalescing record
 *   ['form', id]                                 a form made in the dashboard (StoredForm)
 *   ['form_seq']                                 the last form revision handed out
 *   ['form_audit', revision]                     the audit entry of that revision
 *   ['metrics', hour, formId, name]              Deno.KvU64 counters per hour (metrics.ts)
 *   ['activity', at, n:uuid]                     one line of the recent activity
 *   ['connection_history', at, uuid]             one line of the connection's history
 *   ['owner_session', id]                        a live owner session: its expiry time
 *   ['signin_failures', client]                  a client network's failed sign-in times
 * The indexes and the running counts are written in the same atomic commit as their item, so
 * they never disagree. A count is two monotonic sums, what came in and what went out, because
 * `sum` is the one mutation that needs no check (concurrent commits never conflict on it) and a
 * KvU64 cannot go below zero.
 */

import type { AlertEvent } from '../../../core/alerts/alert-webhook.ts'

export const VERSION: Deno.KvKey = ['schema_version']
export const CONNECTION: Deno.KvKey = ['connection']
export const LEASE: Deno.KvKey = ['refresh_lease']
export const SEQ: Deno.KvKey = ['outbox_seq']
export const BLOCKS: Deno.KvKey = ['delivery_blocks']
export const BACKLOG_LEVEL: Deno.KvKey = ['backlog_level']
export const item = (id: number): Deno.KvKey => ['outbox', id]
export type Counted = 'pending' | 'dead'
export const count = (status: Counted, way: 'in' | 'out'): Deno.KvKey => [
  'outbox_count',
  status,
  way,
]
export const COUNT_KEYS = [
  count('pending', 'in'),
  count('pending', 'out'),
  count('dead', 'in'),
  count('dead', 'out'),
]
export const recent = (key: string): Deno.KvKey => ['recent_submissions', key]
export const stat = (day: string, name: 'cc_requests' | 'delivered'): Deno.KvKey => [
  'daily_stats',
  day,
  name,
]
/** The day's count of requests to CC (the send gate in kv-limits.ts takes from it). */
export const requestCountKey = (day: string): Deno.KvKey => stat(day, 'cc_requests')

export const alertKey = (event: AlertEvent): Deno.KvKey => ['alerts', event]

export const session = (id: string): Deno.KvKey => ['owner_session', id]
export const failuresOf = (client: string): Deno.KvKey => ['signin_failures', client]

export const FORM_SEQ: Deno.KvKey = ['form_seq']
export const form = (id: string): Deno.KvKey => ['form', id]
export const audit = (revision: number): Deno.KvKey => ['form_audit', revision]
