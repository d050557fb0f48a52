/**
 * The storage contract (test/contract/storage-contract.ts) against Deno KV: a fresh in-memory KV
 * per case, migrated as src/deno.ts does before serving.
 */
import { migrate } from '../../src/adapters/deno/kv/migrations.ts'
import { kvStores } from '../../src/adapters/deno/kv/stores.ts'
import { consentContract } from '../contract/consent-contract.ts'
import { metricsContract } from '../contract/metrics-contract.ts'
import { type ContractRunner, storageContract } from '../contract/storage-contract.ts'
import { webhookContract } from '../contract/webhook-contract.ts'

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
        ...kvStores(kv),
        dump: async () => JSON.stringify(await Array.fromAsync(kv.list({ prefix: [] })), asText),
      })
    } finally {
      kv.close()
    }
  },
}
storageContract(runner)
metricsContract(runner)
consentContract(runner)
webhookContract(runner)
