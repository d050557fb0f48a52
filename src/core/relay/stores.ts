/**
 * @module core/relay/stores
 * `Stores`: the ten repositories RelayService writes through, each defined in its folder's
 * repo.ts. Built by `sqlStores` (Workers) or `kvStores` (Deno).
 */

import type { AlertRepo } from '../alerts/repo.ts'
import type { AuthStateRepo, TokenRepo } from '../connection/repo.ts'
import type { ConsentRepo } from '../consent/repo.ts'
import type { FormRepo } from '../forms/repo.ts'
import type { MetricsRepo } from '../metrics/repo.ts'
import type { OutboxRepo } from '../outbox/repo.ts'
import type { OwnerRepo } from '../owner/repo.ts'
import type { TaggingRepo } from '../tagging/repo.ts'
import type { WebhookRepo } from '../webhooks/repo.ts'

export interface Stores {
  tokens: TokenRepo
  states: AuthStateRepo
  outbox: OutboxRepo
  forms: FormRepo
  metrics: MetricsRepo
  owner: OwnerRepo
  alerts: AlertRepo
  consents: ConsentRepo
  taggings: TaggingRepo
  webhooks: WebhookRepo
}
