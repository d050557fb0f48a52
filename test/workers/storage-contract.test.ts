/**
 * The storage contract (test/contract/storage-contract.ts) against the Durable Object's SQLite.
 * Each case runs inside its own Relay object (a new name each time, so no case sees another's
 * rows), over the repos `sqlStores` builds, as the object's constructor does (its migrations have
 * already run there, so they find nothing to do).
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { it } from 'vitest'
import { sqlStores } from '../../src/adapters/workers/sqlite/stores.ts'
import { consentContract } from '../contract/consent-contract.ts'
import { metricsContract } from '../contract/metrics-contract.ts'
import { type ContractRunner, storageContract } from '../contract/storage-contract.ts'
import { webhookContract } from '../contract/webhook-contract.ts'
import { rowsOf } from '../support/sqlite-dump.ts'

let objects = 0

const runner: ContractRunner = {
  test: (name, fn) => it(name, fn),
  withStore: (body) =>
    runInDurableObject(env.RELAY.getByName(`storage-contract-${++objects}`), (_relay, state) =>
      body({
        ...sqlStores(state.storage),
        dump: async () => JSON.stringify(rowsOf(state.storage.sql)),
      })
    ),
}
storageContract(runner)
metricsContract(runner)
consentContract(runner)
webhookContract(runner)
