/**
 * @module core/owner/repo
 * Storage interface for the owner's sessions and failed sign-ins. Both adapters implement it
 * atomically; docs/storage.md describes what is kept.
 */

/**
 * The owner's sessions and failed sign-ins (sign-in-rules.ts has the rules). Each method is atomic,
 * across instances too: two failures counted at once are both counted.
 */
export interface OwnerRepo {
  /** Stores a session; ends expired ones, and past MAX_SESSIONS the oldest. */
  addSession(id: string, expiresAt: number, now: number): Promise<void>
  /** True while the session exists and has not expired. */
  hasSession(id: string, now: number): Promise<boolean>
  removeSession(id: string): Promise<void>
  /**
   * Counts a failed sign-in of `client` and returns 0; or, when the client is locked out
   * (`lockedFor`), counts nothing and returns the seconds left. Keeps SIGN_IN_CLIENTS clients
   * at most and none past the window.
   */
  countSignInFailure(client: string, now: number): Promise<number>
  /** The seconds `client` is still locked out for (0: it may try). */
  signInLockout(client: string, now: number): Promise<number>
}
