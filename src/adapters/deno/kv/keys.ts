/**
 * @module adapters/deno/kv/keys
 * The Deno KV keys that more than one module builds (the repos, the migrations, kv-limits.ts).
 * The whole layout is documented in docs/deno.md, "KV keys"; add a new key there too.
 * An index or running count is written in the same atomic commit as its item. A count is two
 * monotonic `sum`s (in and out), since a KvU64 cannot go below zero and `sum` never conflicts.
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
export const recent = (key: string): Deno.KvKey => ['recent_submissions', key]
export const stat = (day: string, name: 'cc_requests' | 'delivered'): Deno.KvKey => [
  'daily_stats',
  day,
  name,
]
/** The day's count of requests to CC (the send gate in kv-limits.ts takes from it). */
export const requestCountKey = (day: string): Deno.KvKey => stat(day, 'cc_requests')

export const TAGGING_SEQ: Deno.KvKey = ['tagging_seq']
export const tagging = (id: number): Deno.KvKey => ['tagging', id]
export const taggingCount = (status: Counted, way: 'in' | 'out'): Deno.KvKey => [
  'tagging_count',
  status,
  way,
]

export const alertKey = (event: AlertEvent): Deno.KvKey => ['alerts', event]

export const session = (id: string): Deno.KvKey => ['owner_session', id]
export const failuresOf = (client: string): Deno.KvKey => ['signin_failures', client]

export const FORM_SEQ: Deno.KvKey = ['form_seq']
export const form = (id: string): Deno.KvKey => ['form', id]
export const audit = (revision: number): Deno.KvKey => ['form_audit', revision]

export const WEBHOOK_SEQ: Deno.KvKey = ['webhook_seq']
export const webhook = (id: string): Deno.KvKey => ['webhook', id]
export const webhookDelivery = (id: number): Deno.KvKey => ['webhook_delivery', id]
/** A pending event's place in its endpoint's due order (store-rules.ts `dueAt`). */
export const webhookDue = (endpointId: string, dueAt: number, id: number): Deno.KvKey => [
  'webhook_due',
  endpointId,
  dueAt,
  id,
]
export const webhookAttempt = (endpointId: string, seq: number): Deno.KvKey => [
  'webhook_attempt',
  endpointId,
  seq,
]
