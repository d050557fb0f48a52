/**
 * @module core/relay/after-answer
 * Writes that may run after the answer instead of before it. A Durable Object's output gate holds
 * an answer until earlier writes are stored, so bookkeeping after a delivered sign-up (request
 * count, counters, activity, duplicate window) is written once the answer has left. A crash in
 * between loses a count and a duplicate-window entry, never a sign-up. Readers first await
 * `settled()`.
 */

export interface AfterAnswer {
  /** Runs `work` now or after the answer; resolves when the caller may go on and answer. */
  run(work: () => Promise<void>): Promise<void>
  /** Resolves once every write deferred so far is done (each one's failure is logged). */
  settled(): Promise<void>
}

/** Before the answer: where nothing holds answers back for writes (the Deno adapter). */
export const BEFORE_ANSWER: AfterAnswer = {
  run: (work) => work(),
  settled: async () => {},
}

/** After the answer, in a later task: the Durable Object's choice. */
export class DeferredWrites implements AfterAnswer {
  readonly #pending = new Set<Promise<void>>()

  async run(work: () => Promise<void>): Promise<void> {
    // A timer, not a microtask: microtasks run before the answer leaves, inside its gate.
    const done = new Promise((resolve) => setTimeout(resolve, 0))
      .then(work)
      .catch((error: unknown) =>
        console.error(JSON.stringify({ msg: 'deferred_write_failed', error: String(error) }))
      )
      .finally(() => this.#pending.delete(done))
    this.#pending.add(done)
  }

  async settled(): Promise<void> {
    await Promise.all(this.#pending)
  }
}
