import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import { cc, clock } from '../support/edge.ts'
import { callback, startConnect } from '../support/helpers.ts'

it('rejects a state older than 10 minutes without calling the token endpoint', async () => {
  const state = (await startConnect()).searchParams.get('state') ?? ''
  const row = await runInDurableObject(env.RELAY.getByName('main'), (_instance, ctx) =>
    ctx.storage.sql
      .exec<{ expires_at: number }>('SELECT expires_at FROM oauth_states WHERE state = ?', state)
      .one()
  )
  expect(row.expires_at - clock.now()).toBe(10 * 60_000)
  clock.advance(10 * 60_000) // its 10 minutes are up

  const res = await callback(`/oauth/callback?code=good-code&state=${state}`)
  expect(res.status).toBe(400)
  expect(await res.text()).toContain('expired')
  expect(cc.tokenCalls).toHaveLength(0)
})
