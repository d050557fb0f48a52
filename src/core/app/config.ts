/**
 * @module core/app/config
 * The public configuration (README "Configuration"), validated with valibot the first time a
 * request needs it. A bad or missing value is a `config_invalid` error that names the key and
 * never echoes a secret.
 */
import * as v from 'valibot'
import { FormsSchema } from '../forms/profile.ts'
import { secureUrl } from '../lib/url.ts'
import { AppError } from './errors.ts'

export const DEFAULTS = {
  CC_SCOPES: 'account_read contact_data offline_access',
  CC_AUTHORIZE_URL: 'https://authz.constantcontact.com/oauth2/default/v1/authorize',
  CC_TOKEN_URL: 'https://authz.constantcontact.com/oauth2/default/v1/token',
  CC_API_BASE_URL: 'https://api.cc.email/v3',
} as const

/**
 * Sandbox traffic is addressed to this origin. `.invalid` is reserved (RFC 2606) and never
 * resolves, so nothing meant for the sandbox can leave the machine even if interception failed.
 */
export const SANDBOX_ORIGIN = 'https://sandbox.ctct-relay.invalid'

const optionalString = v.optional(v.pipe(v.string(), v.trim(), v.nonEmpty()))

/**
 * The whole-number settings: default and bounds. One table, so that the property tests
 * (test/support/config-values.ts) try exactly the values the schema accepts.
 */
export const WHOLE_NUMBER_SETTINGS = {
  /** CC's per-app limit is 4 requests/second (partners: 10); every send to CC counts. */
  CC_RATE_PER_SECOND: { fallback: 4, min: 1, max: 100 },
  /** CC's per-app daily quota, reset at 00:00 UTC (partners: 250,000). */
  CC_DAILY_QUOTA: { fallback: 10_000, min: 1, max: 10_000_000 },
  /** Sign-ups accepted per client network (an IPv4 address, an IPv6 /64) per minute. */
  SUBMIT_RATE_LIMIT_PER_MINUTE: { fallback: 10, min: 1, max: 10_000 },
  /** A repeat of the same email to the same form within this window is absorbed. */
  DUPLICATE_WINDOW_SECONDS: { fallback: 600, min: 1, max: 86_400 },
  DEAD_LETTER_RETENTION_DAYS: { fallback: 30, min: 1, max: 3650 },
  /** Consent receipts are kept this long (five years by default), then purged by the cron. */
  CONSENT_RETENTION_DAYS: { fallback: 1825, min: 1, max: 3650 },
  /**
   * The most sign-ups the outbox holds waiting (queued plus parked); past it new ones are refused
   * with 503 outbox_full (outbox/submit.ts). Bounds the storage a flood can take.
   */
  OUTBOX_MAX_PENDING: { fallback: 5000, min: 10, max: 1_000_000 },
  /**
   * The most events each webhook endpoint holds waiting (core/webhooks/); past it new ones for
   * that endpoint are dropped and counted, with an alert.
   */
  WEBHOOK_MAX_PENDING: { fallback: 10_000, min: 1, max: 1_000_000 },
  /** The sandbox's access-token lifetime in seconds, short to watch refreshes happen locally. */
  CTCT_SANDBOX_TOKEN_TTL: { fallback: 86_400, min: 10, max: 86_400 },
} as const

/** A whole number from a TOML number or a `--var`/secret string. */
function positiveInt({ fallback, min, max }: { fallback: number; min: number; max: number }) {
  return v.optional(
    v.pipe(
      v.union(
        [v.number(), v.pipe(v.string(), v.trim(), v.regex(/^\d+$/), v.transform(Number))],
        'must be a whole number'
      ),
      v.integer('must be a whole number'),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`)
    ),
    fallback
  )
}

/** One schema per key, so an error can name the key it is about. */
const KEYS = {
  CC_CLIENT_ID: v.pipe(
    v.string('is required: the API key of your Constant Contact app'),
    v.trim(),
    v.nonEmpty('is required: the API key of your Constant Contact app')
  ),
  CC_CLIENT_SECRET: optionalString,
  CC_REDIRECT_URI: v.optional(secureUrl),
  CC_SCOPES: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^[a-z_.]+( +[a-z_.]+)*$/, 'must be space-separated scope names')
    ),
    DEFAULTS.CC_SCOPES
  ),
  /**
   * Sent as `prompt` on the authorize redirect when set (OpenID Connect Core §3.1.2.1): some
   * servers issue a refresh token only after an explicit consent (`consent`). `none` asks for no
   * page at all, so it cannot be combined with another value.
   */
  CC_PROMPT: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(
        /^(none|login|consent|select_account)( +(none|login|consent|select_account))*$/,
        'must be space-separated prompt values: none, login, consent, select_account'
      ),
      v.check((s) => s === 'none' || !/\bnone\b/.test(s), 'must not combine none with others'),
      v.transform((s) => s.split(/ +/).join(' '))
    )
  ),
  CC_AUTHORIZE_URL: v.optional(secureUrl, DEFAULTS.CC_AUTHORIZE_URL),
  /**
   * The authorization server's issuer identifier, which a callback's `iss` must equal (RFC 9207).
   * Unset: CC_AUTHORIZE_URL's origin (oauth.ts `expectedIssuer`).
   */
  CC_ISSUER: v.optional(secureUrl),
  CC_TOKEN_URL: v.optional(secureUrl, DEFAULTS.CC_TOKEN_URL),
  CC_API_BASE_URL: v.optional(
    v.pipe(
      secureUrl,
      v.transform((s) => s.replace(/\/+$/, ''))
    ),
    DEFAULTS.CC_API_BASE_URL
  ),
  ADMIN_TOKEN: v.pipe(
    v.string('is required: the secret the owner signs in with (wrangler secret put ADMIN_TOKEN)'),
    v.minLength(16, 'must be at least 16 characters (use a long random string)')
  ),
  /** Optional: forms are also made in the dashboard; these show there as read-only. */
  FORMS: v.optional(FormsSchema, {}),
  ALERT_WEBHOOK_URL: v.optional(secureUrl),
  TURNSTILE_SECRET_KEY: optionalString,
  CC_RATE_PER_SECOND: positiveInt(WHOLE_NUMBER_SETTINGS.CC_RATE_PER_SECOND),
  CC_DAILY_QUOTA: positiveInt(WHOLE_NUMBER_SETTINGS.CC_DAILY_QUOTA),
  SUBMIT_RATE_LIMIT_PER_MINUTE: positiveInt(WHOLE_NUMBER_SETTINGS.SUBMIT_RATE_LIMIT_PER_MINUTE),
  DUPLICATE_WINDOW_SECONDS: positiveInt(WHOLE_NUMBER_SETTINGS.DUPLICATE_WINDOW_SECONDS),
  DEAD_LETTER_RETENTION_DAYS: positiveInt(WHOLE_NUMBER_SETTINGS.DEAD_LETTER_RETENTION_DAYS),
  CONSENT_RETENTION_DAYS: positiveInt(WHOLE_NUMBER_SETTINGS.CONSENT_RETENTION_DAYS),
  OUTBOX_MAX_PENDING: positiveInt(WHOLE_NUMBER_SETTINGS.OUTBOX_MAX_PENDING),
  WEBHOOK_MAX_PENDING: positiveInt(WHOLE_NUMBER_SETTINGS.WEBHOOK_MAX_PENDING),
  CTCT_SANDBOX: v.optional(
    v.pipe(
      v.picklist(['0', '1', 'true', 'false', ''], 'must be "1" or unset'),
      v.transform((s) => s === '1' || s === 'true')
    ),
    '0'
  ),
  CTCT_SANDBOX_TOKEN_TTL: positiveInt(WHOLE_NUMBER_SETTINGS.CTCT_SANDBOX_TOKEN_TTL),
  /**
   * Deno behind a reverse proxy (docs/deno.md): the one header the proxy sets to the visitor's
   * address, trusted instead of the connection's peer (which is then the proxy, the same for
   * every visitor). Opt-in: a client can send any header, so only one the proxy overwrites may
   * be named. Workers do not read it: there Cloudflare sets cf-connecting-ip, which clients
   * cannot forge, and nothing stands between it and the worker.
   */
  CLIENT_IP_HEADER: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.toLowerCase(),
      v.regex(
        /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/,
        'must be one HTTP header name, such as x-forwarded-for or x-real-ip'
      )
    )
  ),
  /**
   * Cloudflare Access (optional owner sign-in, see cloudflare-access.ts): the team domain, as
   * `myteam.cloudflareaccess.com` or `https://myteam.cloudflareaccess.com`; kept as the bare host.
   */
  ACCESS_TEAM_DOMAIN: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.transform((s) =>
        s
          .replace(/^https:\/\//i, '')
          .replace(/\/+$/, '')
          .toLowerCase()
      ),
      v.regex(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
        'must be your Access team domain, such as myteam.cloudflareaccess.com'
      )
    )
  ),
  /** The Access application's Application Audience (AUD) tag. */
  ACCESS_AUD: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.regex(/^[A-Za-z0-9._-]{1,256}$/, "must be the Access application's AUD tag")
    )
  ),
} as const

const ACCESS_KEYS = ['ACCESS_TEAM_DOMAIN', 'ACCESS_AUD'] as const

type Keys = typeof KEYS
export type Config = { [K in keyof Keys]: v.InferOutput<Keys[K]> } & { sandbox: boolean }

/** Empty strings count as unset, as `wrangler secret` and `.dev.vars` users expect. */
function raw(env: Record<string, unknown>, key: string): unknown {
  const value = env[key]
  return value === '' ? undefined : value
}

/**
 * Validates the environment. Throws `config_invalid` naming every key at fault. The message is
 * built from valibot issue messages only, never from the values, so secrets are never echoed.
 */
export function parseConfig(env: Record<string, unknown>): Config {
  const out: Record<string, unknown> = {}
  const problems: { key: string; message: string }[] = []
  for (const [key, schema] of Object.entries(KEYS)) {
    const result = v.safeParse(schema as v.GenericSchema, raw(env, key))
    if (result.success) {
      out[key] = result.output
    } else {
      const issue = result.issues[0]
      const path = v.getDotPath(issue)
      problems.push({ key, message: `${key}${path ? `.${path}` : ''} ${issue.message}` })
    }
  }
  // Cloudflare Access needs both: a team domain without an audience would accept any of the
  // team's applications, and an audience alone has no keys to check against.
  const accessSet = ACCESS_KEYS.filter((k) => raw(env, k) !== undefined)
  if (accessSet.length === 1) {
    const missing = ACCESS_KEYS.find((k) => k !== accessSet[0]) as string
    problems.push({
      key: missing,
      message: `${missing} is required when ${accessSet[0]} is set (Cloudflare Access needs both)`,
    })
  }
  if (problems.length > 0) {
    throw new AppError(
      'config_invalid',
      `Configuration error: ${problems.map((p) => p.message).join('; ')}`,
      { details: { keys: problems.map((p) => p.key), problems: problems.map((p) => p.message) } }
    )
  }
  const config = { ...out, sandbox: out.CTCT_SANDBOX === true } as Config
  const turnstileForms = Object.entries(config.FORMS)
    .filter(([, profile]) => profile.turnstile)
    .map(([id]) => id)
  if (turnstileForms.length > 0 && !config.TURNSTILE_SECRET_KEY && !config.sandbox) {
    // Refuse rather than silently accept unverified sign-ups on a form that asked for Turnstile.
    throw new AppError(
      'config_invalid',
      `Configuration error: TURNSTILE_SECRET_KEY is required because FORMS.${turnstileForms[0]}.turnstile is true`,
      {
        details: {
          keys: ['TURNSTILE_SECRET_KEY'],
          problems: [`TURNSTILE_SECRET_KEY is required by FORMS.${turnstileForms[0]}.turnstile`],
        },
      }
    )
  }
  if (!config.sandbox) return config
  // The sandbox replaces Constant Contact entirely; see src/sandbox/model.ts and README "Sandbox".
  return {
    ...config,
    CC_TOKEN_URL: `${SANDBOX_ORIGIN}/oauth2/token`,
    CC_API_BASE_URL: `${SANDBOX_ORIGIN}/v3`,
  }
}

const cache = new WeakMap<object, Config>()

/** Parses once per env object (one per isolate on Workers), and re-throws the same error after. */
export function configFrom(env: Record<string, unknown>): Config {
  let config = cache.get(env)
  if (!config) {
    config = parseConfig(env)
    cache.set(env, config)
  }
  return config
}
