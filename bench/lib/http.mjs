/** A small keep-alive HTTP/1.1 client over node:http, for loopback targets only. */
import { Agent, request as httpRequest } from 'node:http'

export const now = () => performance.timeOrigin + performance.now()

export function agent(maxSockets) {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets })
}

/**
 * One request; resolves with status, headers, body text and latency in ms. Refuses anything but
 * 127.0.0.1: the bench never leaves the machine.
 */
export function request(url, { method = 'GET', headers = {}, body, agent: via } = {}) {
  const target = new URL(url)
  if (target.hostname !== '127.0.0.1') throw new Error(`bench targets 127.0.0.1 only: ${url}`)
  const payload = body === undefined ? undefined : Buffer.from(body)
  return new Promise((resolve) => {
    const started = performance.now()
    const req = httpRequest(
      target,
      {
        method,
        agent: via,
        headers: payload ? { ...headers, 'content-length': payload.length } : headers,
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          })
        )
        res.on('error', (err) =>
          resolve({ status: 0, headers: {}, body: String(err), ms: performance.now() - started })
        )
      }
    )
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')))
    req.on('error', (err) =>
      resolve({ status: 0, headers: {}, body: String(err), ms: performance.now() - started })
    )
    req.end(payload)
  })
}
