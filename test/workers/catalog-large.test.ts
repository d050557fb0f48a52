/**
 * A large account: Constant Contact allows 1,000 lists. The catalog reads them all at the largest
 * page size CC documents (500), so the dashboard and the form editor see every list, for two
 * requests of CC's daily quota (and one each for custom fields and tags), counted here at the
 * model of CC.
 */
import { beforeAll, expect, it } from 'vitest'
import { cc } from '../support/edge.ts'
import { call, connect, OWNER, status } from '../support/helpers.ts'

const listId = (i: number) => `0000ffff-0000-4000-8000-${String(i).padStart(12, '0')}`

beforeAll(async () => {
  cc.lists = Array.from({ length: 1000 }, (_, i) => ({ list_id: listId(i), name: `List ${i}` }))
  expect((await connect()).status).toBe(303)
})

it('reads all 1,000 lists in two requests; the editor offers the last one', async () => {
  cc.apiCalls = []
  const quotaBefore = ((await status()).outbox as { quota_used_today: number }).quota_used_today
  const res = await call('/admin/forms/new', { headers: OWNER })
  expect(res.status).toBe(200)
  const html = await res.text()
  expect(html).toContain(`value="${listId(0)}"/> List 0`)
  expect(html).toContain(`value="${listId(999)}"/> List 999`)
  expect(cc.apiCalls.map((c) => c.path)).toEqual([
    '/v3/contact_lists?limit=500&status=active',
    '/v3/contact_lists?limit=500&cursor=500',
    '/v3/contact_custom_fields?limit=100',
    '/v3/contact_tags?limit=500',
  ])
  expect(cc.apiCalls.every((c) => c.status === 200)).toBe(true)
  const quotaAfter = ((await status()).outbox as { quota_used_today: number }).quota_used_today
  expect(quotaAfter - quotaBefore).toBe(4)

  // Cached: the dashboard right after spends nothing more, and shows list 999 too.
  const dashboard = await (await call('/admin/forms', { headers: OWNER })).text()
  expect(dashboard).toContain(`List 999 <code>${listId(999)}</code>`)
  expect(cc.apiCalls).toHaveLength(4)
})

it('a form may use list 1,000 of the account', async () => {
  const res = await call('/admin/api/forms/big', {
    method: 'PUT',
    headers: { ...OWNER, 'content-type': 'application/json' },
    body: JSON.stringify({ lists: [listId(999)], origins: ['https://big.test'] }),
  })
  expect(res.status).toBe(201)
})
