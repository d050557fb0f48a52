/**
 * @module adapters/workers/analytics
 * Optional: every counted event also goes to Workers Analytics Engine when an `ANALYTICS`
 * dataset is bound (wrangler.toml `[[analytics_engine_datasets]]`), for owners who want SQL over
 * more than the built-in charts. Without the binding there is no sink and nothing changes. The
 * schema (docs/operations.md, "Analytics Engine"): blob1 form, blob2 outcome, blob3 stage
 * (`intake` or `delivery`), double1 the latency in ms (deliveries only), index1 the form. No
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
