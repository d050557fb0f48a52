/**
 * RFC 7636's S256 (base64url of SHA-256), written here apart from src/core/connection/oauth.ts, so
 * that the workerd and Deno suites check the relay's challenges and state bindings against an
 * independent computation rather than against themselves.
 */
export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}
