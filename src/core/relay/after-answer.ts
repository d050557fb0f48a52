/**
 * @module core/relay/after-answer
 * Writes that may follow an answer instead of preceding it.
 *
 * A Durable Object's output gate holds every answer until the writes made before it are stored,
 * so a write made just before an answer costs the visitor its commit (about 1.5 ms of the c=1
 * bench's 3 ms over the baseline). Once a sign-up is at CC, what is left is bookkeeping: the
 * day's request count, the counters, the activity line, the duplicate window. None of it is what
 * the answer says, so it is written in a task of its own, after the answer has left. If the
 * object dies in between, one count and one duplicate-window entry are lost, never a sign-up
 * (and a repeat of it reaches CC as an upsert).
 *
 * Readers inside the object first wait for what is pending (`settled`), so the dashboard, the
 * metrics and the tests see every write that an earlier answer promised.
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
