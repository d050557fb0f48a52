/**
 * @module adapters/deno/kv/stores
 * `kvStores`: every repo over Deno KV, with the same methods as adapters/workers/sqlite/. Several
 * instances may share one KV, so every read-modify-write is an optimistic transaction
 * (transact.ts); the decisions themselves are core/relay/store-rules.ts, shared with SQLite.
 */

import type { Stores } from '../../../core/relay/stores.ts'
import { KvAlertRepo } from './alert-repo.ts'
import { KvAuthStateRepo } from './auth-state-repo.ts'
import { KvConsentRepo } from './consent-repo.ts'
import { KvFormRepo } from './form-repo.ts'
import { KvMetricsRepo } from './metrics-repo.ts'
import { KvOutboxRepo } from './outbox-repo.ts'
import { KvOwnerRepo } from './owner-repo.ts'
import { KvTaggingRepo } from './tagging-repo.ts'
import { KvTokenRepo } from './token-repo.ts'
import { KvWebhookRepo } from './webhook-repo.ts'

/** The set, with the token repo as itself: the refresh lease (relay.ts) needs its lease methods. */
export interface KvStores extends Stores {
  tokens: KvTokenRepo
}

/** The repos over `kv`. Migrating is the caller's: `await migrate(kv)` (migrations.ts) first. */
export function kvStores(kv: Deno.Kv): KvStores {
  return {
    tokens: new KvTokenRepo(kv),
    states: new KvAuthStateRepo(kv),
    outbox: new KvOutboxRepo(kv),
    forms: new KvFormRepo(kv),
    metrics: new KvMetricsRepo(kv),
    owner: new KvOwnerRepo(kv),
    alerts: new KvAlertRepo(kv),
    consents: new KvConsentRepo(kv),
    taggings: new KvTaggingRepo(kv),
    webhooks: new KvWebhookRepo(kv),
  }
}
