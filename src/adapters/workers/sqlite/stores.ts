/**
 * @module adapters/workers/sqlite/stores
 * `sqlStores`: migrates the schema, then builds every repo over the Durable Object's SQLite.
 * `sql.exec` is synchronous, so each repo method is atomic: no other request interleaves. The
 * decisions are core/relay/store-rules.ts, shared with Deno KV.
 */

import type { Stores } from '../../../core/relay/stores.ts'
import { SqlAlertRepo } from './alert-repo.ts'
import { SqlAuthStateRepo } from './auth-state-repo.ts'
import { SqlConsentRepo } from './consent-repo.ts'
import { SqlFormRepo } from './form-repo.ts'
import { SqlMetricsRepo } from './metrics-repo.ts'
import { migrate } from './migrations.ts'
import { SqlOutboxRepo } from './outbox-repo.ts'
import { SqlOwnerRepo } from './owner-repo.ts'
import { SqlTaggingRepo } from './tagging-repo.ts'
import { SqlTokenRepo } from './token-repo.ts'
import { SqlWebhookRepo } from './webhook-repo.ts'

/** Runs the pending migrations (`migrate`), then builds the repos: the Relay constructor's call. */
export function sqlStores(storage: DurableObjectStorage): Stores {
  migrate(storage)
  const sql = storage.sql
  return {
    tokens: new SqlTokenRepo(sql),
    states: new SqlAuthStateRepo(sql),
    outbox: new SqlOutboxRepo(sql),
    forms: new SqlFormRepo(sql),
    metrics: new SqlMetricsRepo(sql),
    owner: new SqlOwnerRepo(sql),
    alerts: new SqlAlertRepo(sql),
    consents: new SqlConsentRepo(sql),
    taggings: new SqlTaggingRepo(sql),
    webhooks: new SqlWebhookRepo(sql),
  }
}
