/**
 * @module core/signup/turnstile
 * Server-side Turnstile verification (siteverify). Fails closed: any doubt is a failure.
 */
import * as v from 'valibot'

export const SITEVERIFY_URL = 'https://challenges.cloudflare.com/turnstile/v0/siteverify'

const SiteverifyResponse = v.object({
  success: v.boolean(),
  hostname: v.optional(v.string()),
  action: v.optional(v.string()),
  'error-codes': v.optional(v.array(v.string())),
})

export interface TurnstileCheck {
  secret: string
  token: string | undefined
  remoteIp: string | null
  /** Lets a retried verification of the same token succeed instead of reading as a replay. */
  idempotencyKey: string
  hostnames: string[]
  /** The widget must be rendered with data-action="<formId>". */
  action: string
}

export async function verifyTurnstile(
  check: TurnstileCheck,
  fetchFn: typeof fetch
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!check.token) return { ok: false, reason: 'missing_token' }
  const body = new URLSearchParams({
    secret: check.secret,
    response: check.token,
    idempotency_key: check.idempotencyKey,
  })
  if (check.remoteIp) body.set('remoteip', check.remoteIp)
  let parsed: v.InferOutput<typeof SiteverifyResponse>
  try {
    const res = await fetchFn(SITEVERIFY_URL, {
      method: 'POST',
      body,
      signal: AbortSignal.timeout(5000),
    })
    const result = v.safeParse(SiteverifyResponse, await res.json())
    if (!result.success) return { ok: false, reason: 'bad_siteverify_response' }
    parsed = result.output
  } catch {
    return { ok: false, reason: 'siteverify_unreachable' }
  }
  if (!parsed.success) return { ok: false, reason: parsed['error-codes']?.join(',') || 'failed' }
  if (!parsed.hostname || !check.hostnames.includes(parsed.hostname)) {
    return { ok: false, reason: 'hostname_mismatch' }
  }
  if (parsed.action !== check.action) return { ok: false, reason: 'action_mismatch' }
  return { ok: true }
}
