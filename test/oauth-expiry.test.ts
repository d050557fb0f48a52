import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import { cc } from './fake-cc.ts'
import { call, startConnect } from './helpers.ts'

it('rejects a state older than 10 minutes without calling the token endpoint', async () => {
  const state = (await startConnect()).searchParams.get('state') ?? ''
  // Age the stored state past its 10 minutes (the Durable Object keeps its own clock).
  await runInDurableObject(env.RELAY.getByName('main'), (_instance, ctx) => {
    const row = ctx.storage.sql
      .exec<{ expires_at: number }>('SELECT expires_at FROM oauth_states WHERE state = ?', state)
      .one()
    expect(row.expires_at - Date.now()).toBeGreaterThan(9 * 60_000)
    expect(row.expires_at - Date.now()).toBeLessThanOrEqual(10 * 60_000)
    ctx.storage.sql.exec(
      'UPDATE oauth_states SET expires_at = ? WHERE state = ?',
      Date.now() - 1,
      state
    )
  })
  const res = await call(`/oauth/callback?code=good-code&state=${state}`)
  expect(res.status).toBe(400)
  expect(await res.text()).toContain('expired')
  expect(cc.tokenCalls).toHaveLength(0)
})
