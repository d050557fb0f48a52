/**
 * The workerd suite's network edge and clock, one of each per test file (modules are per file):
 * - `clock`, a virtual clock, installed as the worker's and the Relay object's clock by setup.ts;
 * - `net`, the test network (test/support/network.ts) behind MSW, which sees every `fetch` the
 *   worker and its Durable Object make in this isolate; `cc` is its model of Constant Contact.
 */
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { DroppedConnection } from '../../src/sandbox/model.ts'
import { ALERT_URL, CC_HOSTS, RECEIVER_HOST, SITEVERIFY_URL, TestNetwork } from './network.ts'

export const net = new TestNetwork()
export const cc = net.cc
export const clock = net.clock

async function answer(info: { request: unknown }) {
  try {
    return await net.fetch(info.request as Request)
  } catch (err) {
    if (err instanceof DroppedConnection) return HttpResponse.error()
    throw err
  }
}

export const server = setupServer(
  ...CC_HOSTS.map((host) => http.all(`https://${host}/*`, answer)),
  http.post(ALERT_URL, answer),
  http.post(SITEVERIFY_URL, answer),
  http.post(`https://${RECEIVER_HOST}/*`, answer)
)
