/**
 * An RS256 token jose refuses to make, signed by a 1024-bit RSA key: signed here with WebCrypto
 * directly, so the suites can check that the relay refuses it (the old WebCrypto code did not).
 */
import { base64url, exportJWK, type JWK } from 'jose'

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const

/** A 1024-bit RSA signing pair (jose's generateKeyPair insists on 2048) and its public JWK. */
export async function weakRsaKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const pair = (await crypto.subtle.generateKey(
    { ...RSA, modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify']
  )) as CryptoKeyPair
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' }
  return { privateKey: pair.privateKey, jwk }
}

/** A compact RS256 JWS over these header and claims, whatever the key's size. */
export async function signRs256(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  privateKey: CryptoKey
): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}`
  const signature = await crypto.subtle.sign(RSA, privateKey, new TextEncoder().encode(input))
  return `${input}.${base64url.encode(new Uint8Array(signature))}`
}
