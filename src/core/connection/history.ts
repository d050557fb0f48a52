/**
 * @module core/connection/history
 * The connection's history for the dashboard's 30-day timeline: refreshes, failures, connects,
 * disconnects. Each entry is saved in the same write as the record it describes; the stores keep
 * the last HISTORY_KEPT for at most 90 days (docs/storage.md).
 */
import type { ConnectionEvent, ConnectionRecord, ConnectionState } from './state.ts'

export const HISTORY_KEPT = 1000

export interface ConnectionHistoryEntry {
  at: number
  /** The event type (`consented`, `refreshed`, `refresh_failed`, `disconnected`, …). */
  event: string
  /** The state it left the connection in. */
  state: ConnectionState
  /** The error behind a degraded or needs_reauth state. */
  code: string | null
}

/** Worth a line in the history: these events, and any event that changed the state. */
const NOTED = new Set(['consented', 'refreshed', 'refresh_failed', 'disconnected'])

export function historyEntry(
  before: ConnectionRecord,
  event: ConnectionEvent,
  after: ConnectionRecord,
  at: number
): ConnectionHistoryEntry | undefined {
  if (!NOTED.has(event.type) && after.state === before.state) return undefined
  const code =
    after.state === 'degraded' || after.state === 'needs_reauth' ? after.lastError.code : null
  return { at, event: event.type, state: after.state, code }
}
