/**
 * The owner's "Retry all" against a full backlog (issue #18 item 7.3), for the workerd and Deno
 * suites alike (runtime-neutral). Replaying dead letters once moved every one of them back to
 * pending: 15 pending against OUTBOX_MAX_PENDING = 10 was seen. A replay takes what fits, oldest
 * first, and tells the owner how many are still waiting.
 */
import assert from 'node:assert/strict'
import { type ConfiguredRelay, postSignup, SITE } from './config-values.ts'

let clients = 0
const signup = (relay: ConfiguredRelay, email: string) =>
  postSignup(
    relay,
    'newsletter',
    { email },
    {
      origin: SITE,
      ip: `198.51.100.${++clients % 250}`,
      mode: 'json',
    }
  )

/** The dashboard's button: a form post from the relay's own pages. */
const retry = (relay: ConfiguredRelay, id: number | 'all') =>
  relay.call(
    `/admin/dead-letters/${id}/retry`,
    {
      method: 'POST',
      headers: {
        ...relay.owner,
        origin: 'https://relay.test',
        'content-type': 'application/x-www-form-urlencoded',
      },
    },
    '192.0.2.1'
  )

/** [pending, dead] */
const figures = async (relay: ConfiguredRelay) => {
  const { pending, dead } = await relay.outbox()
  return [pending, dead]
}

/** With OUTBOX_MAX_PENDING = 10, an empty outbox, and CC up to begin with. */
export async function replayKeepsToTheCap(relay: ConfiguredRelay): Promise<void> {
  const emails = (tag: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${tag}${i}@example.com`)
  // Fifteen dead letters: CC refuses each for good, inline (502) or once the pacer lets it out
  // (202, then the drain): in fives, so the backlog never nears the cap.
  relay.cc.signupFaults = Array(15).fill('400')
  const refused = emails('refused', 15)
  for (const [i, email] of refused.entries()) {
    assert.ok([502, 202].includes((await signup(relay, email)).status))
    if (i % 5 === 4) await relay.drain()
  }
  // Then three queued while CC is down.
  relay.cc.down = true
  for (const email of emails('queued', 3)) assert.equal((await signup(relay, email)).status, 202)
  assert.deepEqual(await figures(relay), [3, 15])
  // The Overview lists the newest five and links to the rest; /admin/failed lists them all.
  const listed = async (path: string) => {
    const html = await (await relay.call(path, { headers: relay.owner }, '192.0.2.1')).text()
    return { html, items: html.match(/data-dead-letter="\d+"/g)?.length ?? 0 }
  }
  const overview = await listed('/admin')
  assert.equal(overview.items, 5)
  assert.match(overview.html, /<h2>Failed sign-ups \(15\)<\/h2>/)
  assert.match(
    overview.html,
    /data-failed-more="10"[^>]*>The newest 5 are listed here\. <a href="\/admin\/failed">/
  )
  assert.equal((await listed('/admin/failed')).items, 15)

  // Room for seven: they go back to the queue; eight are still dead letters, and the owner is told.
  const first = await retry(relay, 'all')
  assert.equal(first.status, 303)
  assert.equal(first.headers.get('location'), '/admin?notice=retrying&waiting=8')
  assert.deepEqual(await figures(relay), [10, 8])
  const page = await (
    await relay.call(`${first.headers.get('location')}`, { headers: relay.owner }, '192.0.2.1')
  ).text()
  assert.match(
    page,
    /Sent again: the sign-up is waiting to send\. 8 failed sign-ups are still waiting/
  )
  assert.match(page, /OUTBOX_MAX_PENDING \(10\)/)
  // At the cap nothing fits, and a new sign-up is still refused.
  const full = await retry(relay, 'all')
  assert.equal(full.headers.get('location'), '/admin?notice=retry_full&waiting=8')
  assert.equal((await signup(relay, 'late@example.com')).status, 503)
  assert.deepEqual(await figures(relay), [10, 8])

  // Drained, the rest fit: nothing accepted is lost, and each arrives once.
  relay.cc.down = false
  await relay.drain()
  const second = await retry(relay, 'all')
  assert.equal(second.headers.get('location'), '/admin?notice=retrying')
  await relay.drain()
  assert.deepEqual(await figures(relay), [0, 0])
  for (const email of [...refused, ...emails('queued', 3)])
    assert.ok(relay.cc.contacts.has(email), email)
  assert.equal((await retry(relay, 'all')).status, 404) // nothing left to retry
}
