import { describe, expect, it } from 'vitest'
import { historyEntry } from './history.ts'
import { type ConnectionRecord, NOT_CONNECTED, transition } from './state.ts'

const T = Date.UTC(2030, 0, 1)
const tokens = {
  accessToken: 'a',
  refreshToken: 'r',
  expiresAt: T + 86_400_000,
  receivedAt: T,
  scope: 'contact_data offline_access',
  sub: null,
}

/** Runs the event through the state machine, as connection.ts does, and returns its line. */
function line(record: ConnectionRecord, event: Parameters<typeof transition>[1]) {
  const next = transition(record, event).record
  return { next, entry: historyEntry(record, event, next, T) }
}

describe('historyEntry', () => {
  const connected = line(NOT_CONNECTED, { type: 'consented', tokens, at: T })

  it('notes connects, refreshes, failures and disconnects, with the state they leave', () => {
    expect(connected.entry).toEqual({ at: T, event: 'consented', state: 'connected', code: null })
    const refreshed = line(connected.next, { type: 'refreshed', tokens, at: T })
    expect(refreshed.entry).toMatchObject({ event: 'refreshed', state: 'connected' })
    const failed = line(connected.next, {
      type: 'refresh_failed',
      final: false,
      error: { code: 'token_endpoint_error', message: 'x' },
      at: T,
      lost: false,
      jitter: 0,
    })
    expect(failed.entry).toEqual({
      at: T,
      event: 'refresh_failed',
      state: 'degraded',
      code: 'token_endpoint_error',
    })
    expect(line(failed.next, { type: 'disconnected' }).entry).toMatchObject({
      event: 'disconnected',
      state: 'not_connected',
      code: null,
    })
  })

  it('leaves out the bookkeeping that changes no state', () => {
    expect(line(connected.next, { type: 'refresh_sent', at: T }).entry).toBeUndefined()
    expect(line(connected.next, { type: 'token_call', at: T }).entry).toBeUndefined()
    expect(
      line(connected.next, { type: 'refresh_not_rotated', lostEarlier: false }).entry
    ).toBeUndefined()
  })
})
