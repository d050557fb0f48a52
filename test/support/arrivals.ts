/** The largest number of arrivals within any 1-second window [t, t + 1000). */
export function maxPerSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b)
  let max = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= 1000) j++
    max = Math.max(max, i - j + 1)
  }
  return max
}

/** Polls `check` until it holds, for an event in flight (bounded; waits on the event, not a time). */
export async function until(check: () => boolean | Promise<boolean>, what = 'the condition') {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`gave up waiting for ${what}`)
}
