/** Small statistics helpers. Times are ms. */

/** Nearest-rank percentile of an unsorted array (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

/** The largest number of timestamps inside any window [t, t + windowMs). */
export function maxInWindow(timestamps, windowMs = 1000) {
  const t = Float64Array.from(timestamps).sort()
  let max = 0
  let start = 0
  for (let end = 0; end < t.length; end++) {
    while (t[end] - t[start] >= windowMs) start++
    max = Math.max(max, end - start + 1)
  }
  return max
}

/** Counts of each value: { '200': 12, '202': 3 }. */
export function countBy(values) {
  const out = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}

/**
 * Delivery rate (per second) over the deliveries between fractions `from` and `to` of the sorted
 * timestamps (the middle of a drain, without its ramp-up and tail): the least-squares slope of
 * the delivered count against time, so batches of sends at the window edges do not bias it.
 */
export function rateBetween(timestamps, from = 0, to = 1) {
  const t = Float64Array.from(timestamps).sort()
  const i = Math.floor(from * (t.length - 1))
  const j = Math.ceil(to * (t.length - 1))
  if (j - i < 2 || t[j] === t[i]) return Number.NaN
  let sx = 0
  let sy = 0
  let sxx = 0
  let sxy = 0
  const n = j - i + 1
  for (let k = i; k <= j; k++) {
    const x = (t[k] - t[i]) / 1000
    sx += x
    sy += k
    sxx += x * x
    sxy += x * k
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx)
}

export const round = (n, digits = 1) =>
  Number.isFinite(n) ? Number(n.toFixed(digits)) : Number.NaN
