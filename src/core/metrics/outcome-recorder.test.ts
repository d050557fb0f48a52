import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ORIGINS_PER_FORM_DAY, OTHER_ORIGINS } from '../origins/refusals.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { type MetricEvent, refusalEvent, type Tally, tallyOf } from './metrics.ts'
import { FLUSH_DELAY_MS, OutcomeRecorder } from './outcome-recorder.ts'

const T = Date.UTC(2030, 0, 1, 12)
const junk = (i: number, outcome: MetricEvent['outcome'] = 'honeypot'): MetricEvent => ({
  form: 'f',
  outcome,
  at: T + i,
  email: `b•••${i}@example.com`,
})

/** A backend whose countOutcomes records each call (and fails while `down`). */
function backend() {
  const calls: Tally[] = []
  const state = { down: false }
  const stub = {
    countOutcomes: async (tally: Tally) => {
      if (state.down) throw new Error('object unreachable')
      calls.push(tally)
    },
  } as unknown as RelayBackend
  return { calls, state, backend: () => stub }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('OutcomeRecorder', () => {
  it('sends a flood as one sum, once, FLUSH_DELAY_MS after its first event', async () => {
    const b = backend()
    const kept: Promise<unknown>[] = []
    const seen: MetricEvent[] = []
    const recorder = new OutcomeRecorder({ backend: b.backend, observe: (e) => seen.push(e) })
    for (let i = 0; i < 500; i++)
      recorder.record(junk(i, i % 5 ? 'honeypot' : 'invalid_input'), (w) => kept.push(w))
    expect(seen).toHaveLength(500)
    // One flush scheduled, handed to the first request's waitUntil; nothing sent yet.
    expect(kept).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS - 1)
    expect(b.calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    await kept[0]
    expect(b.calls).toHaveLength(1)
    expect(b.calls[0].counts).toEqual([
      { hour: T, form: 'f', name: 'invalid_input', n: 100 },
      { hour: T, form: 'f', name: 'honeypot', n: 400 },
    ])
    // A flood fills the activity anyway: a batch carries its newest 20 lines.
    expect(b.calls[0].activity.map((a) => a.at)).toEqual(
      Array.from({ length: 20 }, (_, i) => T + 480 + i)
    )
    // The next event opens a new window.
    recorder.record(junk(1000), (w) => kept.push(w))
    expect(kept).toHaveLength(2)
  })

  it('flush() sends at once, leaving the scheduled send nothing to do', async () => {
    const b = backend()
    const recorder = new OutcomeRecorder({ backend: b.backend })
    await recorder.flush()
    expect(b.calls).toHaveLength(0) // nothing held, nothing sent
    const kept: Promise<unknown>[] = []
    recorder.record(junk(1), (w) => kept.push(w))
    await recorder.flush()
    expect(b.calls.map((c) => c.counts)).toEqual([tallyOf([junk(1)]).counts])
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS)
    await kept[0]
    expect(b.calls).toHaveLength(1)
  })

  it('flush() waits for a send under way elsewhere to land', async () => {
    let land = () => {}
    const calls: Tally[] = []
    const slow = {
      countOutcomes: (tally: Tally) =>
        new Promise<void>((resolve) => {
          land = () => {
            calls.push(tally)
            resolve()
          }
        }),
    } as unknown as RelayBackend
    const recorder = new OutcomeRecorder({ backend: () => slow })
    recorder.record(junk(1))
    await vi.advanceTimersByTimeAsync(FLUSH_DELAY_MS) // the scheduled send leaves, slowly
    let flushed = false
    const reading = recorder.flush().then(() => {
      flushed = true
    })
    await vi.advanceTimersByTimeAsync(100)
    expect(flushed).toBe(false)
    land()
    await vi.advanceTimersByTimeAsync(20)
    await reading
    expect(calls).toHaveLength(1)
  })

  it('close() sends at once and leaves no timer behind', async () => {
    const b = backend()
    const recorder = new OutcomeRecorder({ backend: b.backend })
    recorder.record(junk(1))
    expect(vi.getTimerCount()).toBe(1)
    await recorder.close()
    expect(b.calls).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps what it could not send, and sends it with the next batch', async () => {
    const b = backend()
    const recorder = new OutcomeRecorder({ backend: b.backend })
    vi.spyOn(console, 'error').mockImplementation(() => {})
    b.state.down = true
    recorder.record(junk(1))
    recorder.record(junk(2))
    await recorder.flush()
    expect(b.calls).toHaveLength(0)
    b.state.down = false
    recorder.record(junk(3))
    await recorder.flush()
    expect(b.calls).toHaveLength(1)
    expect(b.calls[0].counts).toEqual([{ hour: T, form: 'f', name: 'honeypot', n: 3 }])
    expect(b.calls[0].activity.map((a) => a.at)).toEqual([T + 1, T + 2, T + 3])
  })

  it('sums refused origins bounded per form and day, and keeps them when a send fails', async () => {
    const b = backend()
    const recorder = new OutcomeRecorder({ backend: b.backend })
    vi.spyOn(console, 'error').mockImplementation(() => {})
    b.state.down = true
    // A flood of made-up Origin headers: 500 refusals, 500 different origins.
    for (let i = 0; i < 500; i++) recorder.record(refusalEvent('f', `https://x${i}.test`, T + i))
    await recorder.flush()
    b.state.down = false
    recorder.record(refusalEvent('f', 'https://x0.test', T + 600))
    await recorder.flush()
    expect(b.calls).toHaveLength(1)
    const [{ counts, refusals = [] }] = b.calls
    expect(counts).toEqual([{ hour: T, form: 'f', name: 'origin_not_allowed', n: 501 }])
    expect(refusals).toHaveLength(ORIGINS_PER_FORM_DAY + 1)
    expect(refusals.reduce((sum, r) => sum + r.n, 0)).toBe(501)
    expect(refusals.find((r) => r.origin === 'https://x0.test')).toMatchObject({
      n: 2,
      lastAt: T + 600,
    })
    expect(refusals.find((r) => r.origin === OTHER_ORIGINS)?.n).toBe(500 - ORIGINS_PER_FORM_DAY)
  })
})
