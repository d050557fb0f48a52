/**
 * @module core/cc/client
 * Every HTTP exchange with Constant Contact: `…Request()` builds a request, `process…()`
 * validates the answer (pure), and `exchange()` does the I/O. What to do with an answer (retry,
 * pause, dead-letter, refresh) is left to the callers. CC's quirks: docs/constant-contact.md.
 *   POST {CC_TOKEN_URL}                    authorization_code and refresh_token grants
 *   POST {CC_API_BASE_URL}/contacts/sign_up_form
 *   POST {CC_API_BASE_URL}/activities/contacts_taggings_add, /contact_tags
 *   GET  {CC_API_BASE_URL}/contact_lists, /contact_custom_fields, /contact_tags, /account/summary
 */
import * as v from 'valibot'
import type { Config } from '../app/config.ts'
import { readClaims } from '../lib/jwt.ts'
import { fetchWithin } from '../lib/timeout.ts'
import type { SignupFormBody } from '../signup/validate-signup.ts'
import type { FieldType } from './field-types.ts'

// ---------------------------------------------------------------------------------------------
// I/O

export type Exchanged = { ok: true; status: number; body: string } | { ok: false; error: string }

/**
 * Sends `request` and reads the whole body: a reset or a timeout while reading loses the answer
 * just as surely as one before the status line, so both count as "no answer". The answer comes
 * back as text, so that the `process…` functions parse it with no I/O: on a Durable Object, what
 * a send writes after its answer then shares one turn, and one commit, with its outcome's writes.
 */
export async function exchange(
  fetchFn: typeof fetch,
  request: Request,
  timeoutMs: number
): Promise<Exchanged> {
  try {
    return await fetchWithin(timeoutMs, async (signal) => {
      const answer = await fetchFn(request, { signal })
      return { ok: true, status: answer.status, body: await answer.text() }
    })
  } catch (err) {
    return { ok: false, error: String(err) }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// The token endpoint

export type TokenGrant =
  | { grant_type: 'authorization_code'; code: string; redirect_uri: string; code_verifier?: string }
  | { grant_type: 'refresh_token'; refresh_token: string }

type TokenClient = Pick<Config, 'CC_CLIENT_ID' | 'CC_CLIENT_SECRET' | 'CC_TOKEN_URL'>

/**
 * A confidential app (with a secret) authenticates with HTTP Basic; a public app sends its
 * client_id in the body instead. Both send PKCE's code_verifier with a code. The body is always
 * form-encoded, and so are the Basic id and secret before base64 (RFC 6749 §2.3.1: a space
 * becomes '+', '!' becomes '%21', unlike encodeURIComponent).
 */
export function tokenRequest(client: TokenClient, grant: TokenGrant): Request {
  const body = new URLSearchParams()
  for (const [k, val] of Object.entries(grant)) if (val !== undefined) body.set(k, val)
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  })
  if (client.CC_CLIENT_SECRET) {
    const basic = `${formEncode(client.CC_CLIENT_ID)}:${formEncode(client.CC_CLIENT_SECRET)}`
    headers.set('authorization', `Basic ${btoa(basic)}`)
  } else {
    body.set('client_id', client.CC_CLIENT_ID)
  }
  return new Request(client.CC_TOKEN_URL, { method: 'POST', headers, body })
}

/** application/x-www-form-urlencoded, as URLSearchParams writes a value. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

const TokenResponseSchema = v.object({
  access_token: v.pipe(v.string(), v.nonEmpty()),
  token_type: v.pipe(
    v.string(),
    v.check((t) => t.toLowerCase() === 'bearer', 'token_type must be Bearer')
  ),
  expires_in: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  refresh_token: v.optional(v.pipe(v.string(), v.nonEmpty())),
  scope: v.optional(v.string()),
})

/** RFC 6749 §5.2 errors that mean the client itself is refused: fixing config is the only way. */
const CLIENT_REFUSED = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type'])

const OAuthErrorSchema = v.object({
  error: v.string(),
  error_description: v.optional(v.string()),
})

/** What we keep of a token response. Times are epoch milliseconds. */
export interface TokenSet {
  accessToken: string
  /** Absent when CC returned none (the app lacks `offline_access`). */
  refreshToken?: string
  expiresAt: number
  scope: string
  sub?: string
}

export type TokenEndpointFailure =
  /** The grant (code or refresh token) is dead: reconnecting is the only way forward. */
  | { kind: 'invalid_grant'; status: number; error: string; description?: string }
  /** Worth retrying later: 5xx, 429, or a 4xx with no OAuth error (a proxy's page). */
  | { kind: 'transient'; status: number; error: string; description?: string }
  /** A configuration problem (invalid_client and the like): retrying will not help. */
  | { kind: 'rejected'; status: number; error: string; description?: string }
  /**
   * No answer we can use: nothing came back, or a 2xx we could not read. Either way CC may have
   * rotated the refresh token, so the caller must treat the outcome as unknown.
   */
  | { kind: 'lost'; status: number; error: string; description: string }

export type TokenEndpointResult =
  | { ok: true; tokens: TokenSet }
  | ({ ok: false } & TokenEndpointFailure)

/**
 * Validates a token endpoint answer. `exp` and `sub` come from the access token itself (a JWT at
 * CC); it is decoded without verifying the signature because it came straight from the token
 * endpoint over TLS, and the claims only schedule our own refresh. `sentAt` is when the request
 * left: `expires_in` is counted from it (the server issued the token after that, so the token
 * lives at least that long), never from when the answer arrived.
 */
export function processTokenResponse(
  answer: Exchanged,
  sentAt: number,
  previousRefreshToken?: string
): TokenEndpointResult {
  if (!answer.ok) {
    return {
      ok: false,
      kind: 'lost',
      status: 0,
      error: 'no_answer',
      description: `No answer from the token endpoint: ${answer.error}`,
    }
  }
  const { status } = answer
  const body = parseJson(answer.body)
  if (status < 200 || status > 299) {
    const parsed = v.safeParse(OAuthErrorSchema, body)
    const error = parsed.success ? parsed.output.error : `http_${status}`
    const description = parsed.success ? parsed.output.error_description : undefined
    if (error === 'invalid_grant')
      return { ok: false, kind: 'invalid_grant', status, error, description }
    // Only an OAuth error that says the app itself is refused is final. Anything else (5xx,
    // 429, or a 4xx page from a proxy or WAF with no OAuth error) may pass: retry with backoff.
    if (CLIENT_REFUSED.has(error))
      return { ok: false, kind: 'rejected', status, error, description }
    return { ok: false, kind: 'transient', status, error, description }
  }
  const parsed = v.safeParse(TokenResponseSchema, body)
  if (!parsed.success) {
    return {
      ok: false,
      kind: 'lost',
      status,
      error: 'invalid_token_response',
      description: `The token endpoint answered ${status} with a body that is not a token response`,
    }
  }
  const t = parsed.output
  let expiresAt = t.expires_in ? sentAt + t.expires_in * 1000 : undefined
  let sub: string | undefined
  // Not a JWT: expires_in (or the documented 24 h) decides.
  const claims = readClaims(t.access_token)
  if (typeof claims?.exp === 'number') expiresAt = claims.exp * 1000
  if (typeof claims?.sub === 'string') sub = claims.sub
  return {
    ok: true,
    tokens: {
      accessToken: t.access_token,
      // Long-lived refresh tokens may be omitted from a refresh answer: keep the one we used.
      refreshToken: t.refresh_token ?? previousRefreshToken,
      // CC documents 24 h; without exp or expires_in assume that rather than "never".
      expiresAt: expiresAt ?? sentAt + 86_400_000,
      scope: t.scope ?? '',
      sub,
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The API: sign_up_form, tagging contacts, creating a tag

function apiPostRequest(url: string, accessToken: string, body: unknown): Request {
  return new Request(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify(body),
  })
}

export function signupRequest(apiBase: string, accessToken: string, body: SignupFormBody) {
  return apiPostRequest(`${apiBase}/contacts/sign_up_form`, accessToken, body)
}

/**
 * Adds `tagIds` (at most 50) to `contactIds` (at most 500): CC answers 201 with an activity
 * that applies them in the background (docs/constant-contact.md §13).
 */
export function taggingRequest(
  apiBase: string,
  accessToken: string,
  tagging: { contactIds: string[]; tagIds: string[] }
): Request {
  return apiPostRequest(`${apiBase}/activities/contacts_taggings_add`, accessToken, {
    source: { contact_ids: tagging.contactIds },
    tag_ids: tagging.tagIds,
  })
}

/** Creates a tag named `name` (unique in the account, 1 to 255 characters, no `<` or `>`). */
export function createTagRequest(apiBase: string, accessToken: string, name: string): Request {
  return apiPostRequest(`${apiBase}/contact_tags`, accessToken, { name })
}

/** What CC's answer to an API call means for the relay. */
export type CcOutcome =
  /** `contactId`: sign_up_form's answer names the contact, which a tagging needs. */
  | { kind: 'delivered'; status: number; action?: string; contactId?: string }
  /** The token was rejected: refresh once, then retry once. */
  | { kind: 'unauthorized'; status: number }
  /** Per-second limit hit: back off briefly. */
  | { kind: 'throttled'; status: number }
  /** Daily quota used up: park until 00:00 UTC. */
  | { kind: 'quota_exceeded'; status: number }
  /**
   * 403: a missing scope, missing user privileges or a deactivated app (CC's spec). Account-wide:
   * no body can succeed until the owner acts, so it parks the outbox rather than refusing the
   * sign-up (docs/constant-contact.md §10).
   */
  | { kind: 'forbidden'; status: number; errorKey: string; message: string }
  /** 5xx, 408, 409, network errors, timeouts: retry with backoff. */
  | { kind: 'retry'; status: number; errorKey: string; message: string }
  /** 400 and other 4xx but 403: retrying the same body cannot help. */
  | { kind: 'dead'; status: number; errorKey: string; message: string }

const ErrorItem = v.object({
  error_key: v.optional(v.string()),
  error_message: v.optional(v.string()),
})
/** CC error bodies are an array normally, and a single object on 401 and 429 (docs/constant-contact.md §10). */
const ErrorBody = v.union([v.array(ErrorItem), ErrorItem])

export function parseCcError(body: unknown): { errorKey: string; message: string } {
  const parsed = v.safeParse(ErrorBody, body)
  if (!parsed.success) return { errorKey: 'unknown', message: '' }
  const first = Array.isArray(parsed.output) ? parsed.output[0] : parsed.output
  return { errorKey: first?.error_key ?? 'unknown', message: first?.error_message ?? '' }
}

const SignupSuccess = v.object({
  contact_id: v.optional(v.string()),
  action: v.optional(v.string()),
})

/** Classifies any CC API answer by status and error key (sign_up_form and the GETs alike). */
export function classifyApiResponse(status: number, body: unknown): CcOutcome {
  if (status >= 200 && status < 300) {
    const parsed = v.safeParse(SignupSuccess, body)
    if (!parsed.success) return { kind: 'delivered', status }
    const { action, contact_id: contactId } = parsed.output
    return { kind: 'delivered', status, action, contactId }
  }
  const { errorKey, message } = parseCcError(body)
  if (status === 401) return { kind: 'unauthorized', status }
  if (status === 429 && errorKey === 'quota_exceeded') return { kind: 'quota_exceeded', status }
  if (status === 429) return { kind: 'throttled', status }
  if (status === 403) return { kind: 'forbidden', status, errorKey, message }
  if (status >= 500 || status === 409 || status === 408) {
    return { kind: 'retry', status, errorKey, message }
  }
  return { kind: 'dead', status, errorKey, message }
}

/** A failed exchange (no answer) is worth retrying: CC may never have seen it. */
export function processApiResponse(answer: Exchanged): { outcome: CcOutcome; body: unknown } {
  if (!answer.ok) {
    return {
      outcome: { kind: 'retry', status: 0, errorKey: 'network_error', message: answer.error },
      body: undefined,
    }
  }
  const body = parseJson(answer.body)
  return { outcome: classifyApiResponse(answer.status, body), body }
}

// ---------------------------------------------------------------------------------------------
// The API: GETs for the owner's dashboard

export function apiGetRequest(url: string, accessToken: string): Request {
  return new Request(url, {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
  })
}

const NextLink = v.optional(v.object({ next: v.optional(v.object({ href: v.string() })) }))

const ListsPage = v.object({
  lists: v.array(v.object({ list_id: v.string(), name: v.string() })),
  _links: NextLink,
})
/**
 * CustomFieldMetadata [SW]: what field-types.ts checks values against. Each entry is read only
 * when it has its documented type; anything else in `metadata` is not ours to judge.
 */
const Metadata = v.optional(
  v.object({
    allow_negative: v.fallback(v.optional(v.boolean()), undefined),
    decimal_places: v.fallback(v.optional(v.pipe(v.number(), v.integer())), undefined),
    integer: v.fallback(v.optional(v.boolean()), undefined),
  })
)

const CustomFieldsPage = v.object({
  custom_fields: v.array(
    v.object({
      custom_field_id: v.string(),
      name: v.optional(v.string()),
      label: v.optional(v.string()),
      type: v.optional(v.string()),
      metadata: v.fallback(Metadata, undefined),
    })
  ),
  _links: NextLink,
})

export interface CcList {
  list_id: string
  name: string
}
export interface CcCustomField {
  custom_field_id: string
  name: string
  label: string
  /** CC's type (string, date, number, …); '' when CC did not say. */
  type: string
  /** What CC says of the values (number and currency), when it says anything. */
  metadata?: Omit<FieldType, 'type'>
}

export type Page<T> = { items: T[]; next: string | null }

/**
 * `_links.next.href` is a path on the API's origin ("/v3/contact_lists?cursor=…"): resolved
 * against it, and never followed anywhere else.
 */
function nextUrl(apiBase: string, href: string | undefined): string | null {
  if (!href) return null
  const origin = new URL(apiBase).origin
  const url = new URL(href, origin)
  return url.origin === origin ? url.toString() : null
}

export function processListsPage(apiBase: string, body: unknown): Page<CcList> | null {
  const parsed = v.safeParse(ListsPage, body)
  if (!parsed.success) return null
  return {
    items: parsed.output.lists.map((l) => ({ list_id: l.list_id, name: l.name })),
    next: nextUrl(apiBase, parsed.output._links?.next?.href),
  }
}

export function processCustomFieldsPage(
  apiBase: string,
  body: unknown
): Page<CcCustomField> | null {
  const parsed = v.safeParse(CustomFieldsPage, body)
  if (!parsed.success) return null
  return {
    items: parsed.output.custom_fields.map((f) => {
      const field: CcCustomField = {
        custom_field_id: f.custom_field_id,
        name: f.name ?? '',
        label: f.label ?? f.name ?? '',
        type: f.type ?? '',
      }
      const metadata = Object.fromEntries(
        Object.entries(f.metadata ?? {}).filter(([, value]) => value !== undefined)
      )
      if (Object.keys(metadata).length > 0) field.metadata = metadata
      return field
    }),
    next: nextUrl(apiBase, parsed.output._links?.next?.href),
  }
}

export interface AccountSummary {
  organization_name?: string
  encoded_account_id?: string
  /** The account's time zone (an IANA id such as "America/New_York"): the owner's pages use it. */
  time_zone_id?: string
}

/** CC's answer, and the copy the connection keeps (connection/state.ts). */
export const AccountSummarySchema = v.object({
  organization_name: v.optional(v.string()),
  encoded_account_id: v.optional(v.string()),
  time_zone_id: v.optional(v.pipe(v.string(), v.maxLength(64))),
})

const Tag = v.object({ tag_id: v.string(), name: v.string() })
const TagsPage = v.object({ tags: v.array(Tag), _links: NextLink })

export interface CcTag {
  tag_id: string
  name: string
}

export function processTagsPage(apiBase: string, body: unknown): Page<CcTag> | null {
  const parsed = v.safeParse(TagsPage, body)
  if (!parsed.success) return null
  return {
    items: parsed.output.tags.map((t) => ({ tag_id: t.tag_id, name: t.name })),
    next: nextUrl(apiBase, parsed.output._links?.next?.href),
  }
}

/** CC's answer to a new tag (201 `Tag`): its id and name, or null when it is not one. */
export function processCreatedTag(body: unknown): CcTag | null {
  const parsed = v.safeParse(Tag, body)
  return parsed.success ? { tag_id: parsed.output.tag_id, name: parsed.output.name } : null
}

export function processAccountSummary(body: unknown): AccountSummary | null {
  const parsed = v.safeParse(AccountSummarySchema, body)
  if (!parsed.success) return null
  const { organization_name, encoded_account_id, time_zone_id } = parsed.output
  return { organization_name, encoded_account_id, time_zone_id }
}
