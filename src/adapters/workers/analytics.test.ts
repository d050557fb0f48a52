import { describe, expect, it } from 'vitest'
import { analyticsSink } from './analytics.ts'

describe('analyticsSink', () => {
  it('is absent without an ANALYTICS binding: nothing changes', () => {
    expect(analyticsSink({} as Env)).toBeUndefined()
  })

  it('writes one data point per event: form, outcome, stage; latency; the form as index', () => {
    const points: AnalyticsEngineDataPoint[] = []
    const env = { ANALYTICS: { writeDataPoint: (p: AnalyticsEngineDataPoint) => points.push(p) } }
    const sink = analyticsSink(env as unknown as Env)
    sink?.({ form: 'newsletter', outcome: 'honeypot', at: 1, email: 'b•••t@example.com' })
    sink?.({ form: 'newsletter', outcome: 'delivered', at: 2, email: null, latencyMs: 240 })
    expect(points).toEqual([
      { blobs: ['newsletter', 'honeypot', 'intake'], doubles: [], indexes: ['newsletter'] },
      { blobs: ['newsletter', 'delivered', 'delivery'], doubles: [240], indexes: ['newsletter'] },
    ])
    // No address, masked or not, leaves for Analytics Engine.
    expect(JSON.stringify(points)).not.toContain('example.com')
  })
})
