/**
 * The sandbox keeps its contacts and deleted lists in the Durable Object's storage (#20): after
 * the object is evicted (idle for seconds under `npm start`), the dashboard still shows the
 * sign-up that arrived, and a list deleted at /__sandbox stays deleted until it is restored.
 * The scenarios are runtime-neutral (test/support/sandbox-storage.ts).
 */

import { evictDurableObject } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { beforeAll, it } from 'vitest'
import { SLOT_REST_MS } from '../../../src/core/cc/pacer.ts'
import { clock } from '../../support/edge.ts'
import {
  connectToSandbox,
  contactsOutliveRestart,
  deletedListOutlivesRestart,
  type LocalSandboxRelay,
} from '../../support/sandbox-storage.ts'

const ORIGIN = 'http://localhost:8787'
const relay: LocalSandboxRelay = {
  call: (path, init) =>
    exports.default.fetch(new Request(new URL(path, ORIGIN), { redirect: 'manual', ...init })),
  origin: ORIGIN,
  owner: { authorization: 'Bearer test-admin-token-0123456789' },
  restart: () => evictDurableObject(env.RELAY.getByName('main')),
  rest: () => clock.advance(SLOT_REST_MS + 100),
}

beforeAll(() => connectToSandbox(relay))

it('the dashboard still shows the contacts that arrived after the object restarts', () =>
  contactsOutliveRestart(relay))

it('a list deleted at /__sandbox stays deleted across a restart, until it is restored', () =>
  deletedListOutlivesRestart(relay))
