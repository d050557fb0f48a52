/**
 * @module adapters/workers/analytics
 * Optional: when an `ANALYTICS` dataset is bound, every counted event also goes to Workers
 * Analytics Engine; without the binding nothing changes. Schema: docs/operations.md. No email
 * address, masked or not, is ever written.
 */
import { type EventSink, INTAKE_OUTCOMES } from '../../core/metrics/metrics.ts'

const intake = new Set<string>(INTAKE_OUTCOMES)

export function analyticsSink(env: Env): EventSink | undefined {
  const dataset = (env as { ANALYTICS?: AnalyticsEngineDataset }).ANALYTICS
  if (!dataset) return undefined
  return (e) =>
    dataset.writeDataPoint({
      blobs: [e.form, e.outcome, intake.has(e.outcome) ? 'intake' : 'delivery'],
      doubles: e.latencyMs === undefined ? [] : [e.latencyMs],
      indexes: [e.form],
    })
}
