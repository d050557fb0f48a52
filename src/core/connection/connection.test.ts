/**
 * How long a token call may take. A lost answer is retried with the same (maybe already rotated)
 * refresh token, which a strict server answers by revoking the grant, so the relay waits 30 s
 * before it calls an answer lost; and the leases that must outlive a refresh outlive that.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { VirtualClock } from '../../../test/support/virtual-clock.ts'
import { parseConfig } from '../app/config.ts'
import { SEND_TIMEOUT_MS } from '../cc/api.ts'
import { LEASE_MS } from '../outbox/drain.ts'
import {
  Connection,
  REFRESH_ATTEMPTS,
  SLOWEST_REFRESH_MS,
  TOKEN_CALL_SPACING_MS,
  TOKEN_CALL_TIMEOUT_MS,
} from './connection.ts'

const config = parseConfig({
  CC_CLIENT_ID: 'app',
  ADMIN_TOKEN: 'test-admin-token-0123456789',
  FORMS: '{}',
  CC_TOKEN_URL: 'https://authz.cc.test/token',
})

/** A token endpoint that never answers: the call ends only when its deadline aborts it. */
function silentTokenEndpoint() {
  const calls: number[] = []
  const fetch: typeof globalThis.fetch = (_input, init) => {
    calls.push(Date.now())
    return new Promise((_resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
    })
  }
  return { calls, fetch }
}

function connection(fetch: typeof globalThis.fetch) {
  let stored: unknown = null
  return new Connection({
    repo: {
      load: async () => stored,
      save: async (record) => {
        stored = record
      },
    },
    config: () => config,
    fetch,
    clock: new VirtualClock(),
    alert: async () => {},
  })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('the token call timeout', () => {
  it('waits 30 s for the token endpoint, not less, then reports no answer', async () => {
    vi.useFakeTimers()
    const endpoint = silentTokenEndpoint()
    let settled = false
    const exchanged = connection(endpoint.fetch)
      .exchangeCode({
        grant_type: 'authorization_code',
        code: 'c',
        redirect_uri: 'https://relay.test/oauth/callback',
        code_verifier: 'v',
      })
      .finally(() => {
        settled = true
      })
    await vi.advanceTimersByTimeAsync(29_999)
    expect(endpoint.calls).toHaveLength(1)
    expect(settled).toBe(false) // an 8 s (or any shorter) deadline would have given up by now
    await vi.advanceTimersByTimeAsync(1)
    expect(await exchanged).toEqual({
      ok: false,
      code: 'token_exchange_failed',
      message: 'The token endpoint did not answer',
    })
    expect(endpoint.calls).toHaveLength(1)
  })

  it('the slowest refresh is three spaced attempts that each time out', () => {
    expect(TOKEN_CALL_TIMEOUT_MS).toBe(30_000)
    expect(SLOWEST_REFRESH_MS).toBe(
      REFRESH_ATTEMPTS * (TOKEN_CALL_SPACING_MS + TOKEN_CALL_TIMEOUT_MS)
    )
  })

  it('an outbox lease outlives the slowest attempt: refresh, send, 401, refresh, send', () => {
    expect(LEASE_MS).toBeGreaterThan(2 * (SLOWEST_REFRESH_MS + SEND_TIMEOUT_MS))
  })
})

describe('a 401 reported for a token another caller has already replaced', () => {
  it('is answered with the new token, and the refresh token is not spent again', async () => {
    const clock = new VirtualClock()
    const issued: string[] = []
    // A token endpoint that rotates: every refresh gets a new access and refresh token.
    const tokenEndpoint: typeof globalThis.fetch = async () => {
      const n = issued.length + 2
      issued.push(`access-${n}`)
      return Response.json({
        access_token: `access-${n}`,
        refresh_token: `refresh-${n}`,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'account_read contact_data offline_access',
      })
    }
    // One stored record shared by two instances, as Deno KV is.
    let stored: unknown = {
      state: 'connected',
      generation: 1,
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: clock.now() + 3_600_000,
      receivedAt: clock.now(),
      scope: 'account_read contact_data offline_access',
      connectedAt: clock.now(),
    }
    const repo = {
      load: async () => stored,
      save: async (record: object) => {
        stored = record
      },
    }
    const deps = { repo, config: () => config, fetch: tokenEndpoint, clock, alert: async () => {} }
    const a = new Connection(deps)
    // B takes the refresh lock only after A, answered 401 for the same token, has replaced it:
    // the interleaving two instances can fall into when B reads the record just before A saves.
    const b = new Connection({
      ...deps,
      serializeRefresh: async (refresh) => {
        const first = await a.accessToken({ rejected: 'access-1' })
        expect(first.ok && first.value.token).toBe('access-2')
        return refresh()
      },
    })
    const answer = await b.accessToken({ rejected: 'access-1' })
    expect(answer.ok && answer.value.token).toBe('access-2')
    expect(issued).toEqual(['access-2'])
  })
})
