/**
 * @module core/lib/timeout
 * `fetch` with a deadline whose timer is cleared once the answer is in. AbortSignal.timeout cannot
 * be cleared, and its pending timer would keep a Durable Object awake (and billed) after every
 * request.
 */
export async function fetchWithin<T>(
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(
    () => controller.abort(new DOMException(`No answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs
  )
  try {
    return await run(controller.signal)
  } finally {
    clearTimeout(timer)
  }
}
