/**
 * @module core/connection/repo
 * Storage interface for the connection: the token record and the OAuth states in flight. Both
 * adapters implement it atomically; docs/storage.md describes what is kept.
 */
import type { ConnectionHistoryEntry } from './history.ts'

/**
 * The connection record (see connection.ts). The store keeps it as an opaque JSON document: the
 * core parses what `load` returns, so older shapes are upgraded in one place.
 */
export interface TokenRepo {
  /** The document `save` stored last, or null when there is none. */
  load(): Promise<unknown>
  /** With `history`, that line goes into the connection's history in the same write. */
  save(record: object, history?: ConnectionHistoryEntry): Promise<void>
}

export interface PendingAuthorization {
  state: string
  redirectUri: string
  codeVerifier: string | null
  expiresAt: number
}

export type ClaimResult =
  | { status: 'ok'; pending: PendingAuthorization }
  | { status: 'unknown' | 'expired' | 'used' }

/** OAuth `state` values we issued. `claim` must be atomic: a state is used once, ever. */
export interface AuthStateRepo {
  /**
   * Stores a new state, and purges those past their retention (store-rules.ts). Refuses (throws)
   * a state that was already issued: storing it again would make a used state claimable.
   */
  put(pending: PendingAuthorization): Promise<void>
  /** In this order: unknown, used, expired (now burned), ok (now used). See `claimVerdict`. */
  claim(state: string, now: number): Promise<ClaimResult>
}
