import { afterAll, afterEach, beforeAll } from 'vitest'
import { cc, server } from './fake-cc.ts'

// Any request that no handler answers fails the test: nothing may reach the real network.
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  cc.reset()
})
afterAll(() => server.close())
