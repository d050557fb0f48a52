/**
 * The storage contract (test/contract/storage-contract.ts) against Deno KV: a fresh in-memory KV
 * per case, migrated as src/deno.ts does before serving.
 */
import {
  KvAlertRepo,
  KvAuthStateRepo,
  KvFormRepo,
  KvMetricsRepo,
  KvOutboxRepo,
  KvOwnerRepo,
  KvTokenRepo,
  migrate,
} from '../../src/adapters/deno/kv/outbox-repo.ts'
import { metricsContract } from '../contract/metrics-contract.ts'
import { type ContractRunner, storageContract } from '../contract/storage-contract.ts'

/** KV values may hold bigints (Deno.KvU64), which JSON cannot. */
const asText = (_key: string, value: unknown) =>
  typeof value === 'bigint' ? value.toString() : value

const runner: ContractRunner = {
  test: (name, fn) => Deno.test(`kv: ${name}`, fn),
  withStore: async (body) => {
    const kv = await Deno.openKv(':memory:')
    try {
      await migrate(kv)
      await body({
        tokens: new KvTokenRepo(kv),
        states: new KvAuthStateRepo(kv),
        outbox: new KvOutboxRepo(kv),
        forms: new KvFormRepo(kv),
        metrics: new KvMetricsRepo(kv),
        owner: new KvOwnerRepo(kv),
        alerts: new KvAlertRepo(kv),
        dump: async () => JSON.stringify(await Array.fromAsync(kv.list({ prefix: [] })), asText),
      })
    } finally {
      kv.close()
    }
  },
}
storageContract(runner)
metricsContract(runner)
