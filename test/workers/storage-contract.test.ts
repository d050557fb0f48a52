/**
 * The storage contract (test/contract/storage-contract.ts) against the Durable Object's SQLite.
 * Each case runs inside its own Relay object (a new name each time, so no case sees another's
 * rows), whose constructor has already migrated the schema.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { it } from 'vitest'
import {
  SqlAlertRepo,
  SqlAuthStateRepo,
  SqlFormRepo,
  SqlMetricsRepo,
  SqlOutboxRepo,
  SqlOwnerRepo,
  SqlTokenRepo,
} from '../../src/adapters/workers/sqlite/outbox-repo.ts'
import { metricsContract } from '../contract/metrics-contract.ts'
import { type ContractRunner, storageContract } from '../contract/storage-contract.ts'
import { rowsOf } from '../support/sqlite-dump.ts'

let objects = 0

const runner: ContractRunner = {
  test: (name, fn) => it(name, fn),
  withStore: (body) =>
    runInDurableObject(env.RELAY.getByName(`storage-contract-${++objects}`), (_relay, state) =>
      body({
        tokens: new SqlTokenRepo(state.storage.sql),
        states: new SqlAuthStateRepo(state.storage.sql),
        outbox: new SqlOutboxRepo(state.storage.sql),
        forms: new SqlFormRepo(state.storage.sql),
        metrics: new SqlMetricsRepo(state.storage.sql),
        owner: new SqlOwnerRepo(state.storage.sql),
        alerts: new SqlAlertRepo(state.storage.sql),
        dump: async () => JSON.stringify(rowsOf(state.storage.sql)),
      })
    ),
}
storageContract(runner)
metricsContract(runner)
