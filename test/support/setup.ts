import { afterAll, afterEach, beforeAll } from 'vitest'
import { workerClock } from '../../src/adapters/workers/clock.ts'
import { clock, net, server } from './edge.ts'

// Time in the worker and its Durable Object is the test's virtual clock: tests move it.
workerClock.current = clock

// Any request that no handler answers fails the test: nothing may reach the real network.
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  net.reset()
})
afterAll(() => server.close())
