/**
 * Tags in Constant Contact on Deno, mirroring test/workers/tagging.test.ts: batching, retries, a
 * refused tagging as a dead letter, and pending taggings that outlive the process.
 */
import assert from 'node:assert/strict'
import { maxPerSecond } from '../support/arrivals.ts'
import {
  connect,
  drainAll,
  type Instance,
  status,
  withInstance,
  withRestarts,
} from '../support/deno-relay.ts'
import { TAG_1, TAG_2, TAGS } from '../support/network.ts'
import { apiArrivals, taggedSubmission, taggingCalls, tagsOf } from '../support/tagging.ts'

async function submitTagged(i: Instance, email: string, tags = [TAG_1, TAG_2]) {
  return (await i.relay.service.submit(await taggedSubmission(email, tags))).status
}

const figures = async (i: Instance) =>
  (await status(i)).outbox as { pending: number; tagging_pending: number; tagging_dead: number }

Deno.test('tagging: 6 sign-ups within a second are delivered and tagged in at most 3 calls', async () => {
  await withInstance(async ({ relay, net, cc, clock }) => {
    assert.equal((await connect(relay, net)).status, 303)
    const emails = Array.from({ length: 6 }, (_, i) => `six${i}@example.com`)
    for (const email of emails) {
      assert.ok(['delivered', 'queued'].includes(await submitTagged(relay, email)))
      clock.advance(150)
    }
    await drainAll(relay, clock)
    for (const email of emails) assert.deepEqual(tagsOf(cc, email), [TAG_1, TAG_2])
    const calls = taggingCalls(cc).length
    assert.ok(calls >= 1 && calls <= 3, `${calls} tagging calls`)
    assert.ok(maxPerSecond(apiArrivals(cc)) <= 4)
    const after = await figures(relay)
    assert.deepEqual([after.pending, after.tagging_pending], [0, 0])
  })
})

Deno.test('tagging: a 500 is retried and the tags applied', async () => {
  await withInstance(async ({ relay, net, cc, clock }) => {
    assert.equal((await connect(relay, net)).status, 303)
    cc.taggingFaults = ['500']
    assert.equal(await submitTagged(relay, 'retry@example.com'), 'delivered')
    await drainAll(relay, clock)
    assert.deepEqual(
      taggingCalls(cc).map((c) => c.status),
      [500, 201]
    )
    assert.deepEqual(tagsOf(cc, 'retry@example.com'), [TAG_1, TAG_2])
  })
})

Deno.test('tagging: a 400 is a dead letter of kind tagging with an alert; Retry applies it', async () => {
  await withInstance(async ({ relay, net, cc, clock }) => {
    const { service } = relay.relay
    assert.equal((await connect(relay, net)).status, 303)
    cc.tags = cc.tags.filter((t) => t.tag_id !== TAG_2)
    assert.equal(await submitTagged(relay, 'refused@example.com'), 'delivered')
    await drainAll(relay, clock)
    assert.deepEqual(net.alertEvents(), ['tagging_dead_letter'])
    const [letter] = await service.deadLetters()
    assert.deepEqual(
      [letter.kind, letter.email_masked, letter.tag_ids, letter.error?.status],
      ['tagging', 'r•••d@example.com', [TAG_1, TAG_2], 400]
    )
    assert.equal((await figures(relay)).tagging_dead, 1)
    // Sign-ups go on meanwhile.
    assert.equal(await submitTagged(relay, 'next@example.com', [TAG_1]), 'delivered')
    // The tag is back in CC: the owner's Retry applies it.
    cc.tags = [...TAGS]
    assert.equal(await service.deleteDeadLetter(letter.id), false) // a sign-up's id: no such one
    assert.deepEqual(await service.retryDeadLetter(letter.id, 'tagging'), {
      revived: 1,
      waiting: 0,
    })
    await drainAll(relay, clock)
    assert.deepEqual(tagsOf(cc, 'refused@example.com'), [TAG_1, TAG_2])
    assert.deepEqual(tagsOf(cc, 'next@example.com'), [TAG_1])
    assert.deepEqual(await service.deadLetters(), [])
  })
})

Deno.test('tagging: pending taggings outlive the process and the next one applies them', () =>
  withRestarts(async ({ start, stop, net, cc, clock }) => {
    const first = await start()
    assert.equal((await connect(first, net)).status, 303)
    assert.equal(await submitTagged(first, 'restart@example.com'), 'delivered')
    stop(first)

    clock.advance(10_000)
    const second = await start()
    assert.equal((await figures(second)).tagging_pending, 1)
    await second.relay.service.drain()
    assert.deepEqual(tagsOf(cc, 'restart@example.com'), [TAG_1, TAG_2])
    assert.equal((await figures(second)).tagging_pending, 0)
  }))
