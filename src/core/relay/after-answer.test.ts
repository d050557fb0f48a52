import { describe, expect, it, vi } from 'vitest'
import { BEFORE_ANSWER, DeferredWrites } from './after-answer.ts'

describe('BEFORE_ANSWER', () => {
  it('runs the work before the caller goes on', async () => {
    const done: string[] = []
    await BEFORE_ANSWER.run(async () => {
      done.push('write')
    })
    done.push('answer')
    expect(done).toEqual(['write', 'answer'])
  })
})

describe('DeferredWrites', () => {
  it('runs the work after the caller has answered, in a later task', async () => {
    const writes = new DeferredWrites()
    const done: string[] = []
    const answered = writes
      .run(async () => {
        done.push('write')
      })
      .then(() => done.push('answer'))
    await answered
    // Every microtask of the answer ran first: the write waits for a timer.
    await Promise.resolve()
    expect(done).toEqual(['answer'])
    await writes.settled()
    expect(done).toEqual(['answer', 'write'])
  })

  it('settled() waits for every pending write, and a failed one is logged, not thrown', async () => {
    const writes = new DeferredWrites()
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    const stored: number[] = []
    await writes.run(async () => {
      throw new Error('disk full')
    })
    for (const n of [1, 2, 3]) {
      await writes.run(async () => {
        await new Promise((resolve) => setTimeout(resolve, 0))
        stored.push(n)
      })
    }
    expect(stored).toEqual([])
    await writes.settled()
    expect(stored).toEqual([1, 2, 3])
    expect(errors).toHaveBeenCalledOnce()
    expect(String(errors.mock.calls[0][0])).toContain('disk full')
    errors.mockRestore()
    // Nothing pending any more: settled() answers at once.
    await writes.settled()
  })
})
