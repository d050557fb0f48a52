import { builtinModules } from 'node:module'
import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

/** Constant Contact's endpoints in tests, answered by its model behind MSW (test/support/edge.ts). */
const CC = {
  CC_AUTHORIZE_URL: 'https://authz.cc.test/oauth2/default/v1/authorize',
  CC_TOKEN_URL: 'https://authz.cc.test/oauth2/default/v1/token',
  CC_API_BASE_URL: 'https://api.cc.test/v3',
  ALERT_WEBHOOK_URL: 'https://hooks.test/alert',
}

const bindings = {
  ...CC,
  CC_CLIENT_ID: '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10',
  ADMIN_TOKEN: 'test-admin-token-0123456789',
  FORMS: JSON.stringify({
    newsletter: {
      lists: ['9e2f7d10-1111-4c3b-8e42-000000000001', '9e2f7d10-1111-4c3b-8e42-000000000002'],
      origins: ['https://site.test'],
      custom_fields: { source: '5a1d0c6e-2222-4f1a-9b7c-000000000001' },
    },
    events: {
      lists: ['9e2f7d10-1111-4c3b-8e42-000000000003'],
      origins: ['https://events.test'],
      success_url: 'https://events.test/thanks',
      error_url: 'https://events.test/oops',
    },
    protected: {
      lists: ['9e2f7d10-1111-4c3b-8e42-000000000001'],
      origins: ['https://site.test'],
      turnstile: true,
    },
  }),
  TURNSTILE_SECRET_KEY: 'test-turnstile-secret',
}

/**
 * MSW and the libraries are bundled once, not loaded module by module into each test file's
 * isolate (MSW alone took ~1.7 s per file). Node's built-ins stay imports: workerd provides them
 * (nodejs_compat), the bundler cannot.
 */
const optimizer = {
  ssr: {
    enabled: true,
    include: ['msw', 'msw/node', 'hono', 'valibot', 'jose'],
    rolldownOptions: {
      external: [...builtinModules, ...builtinModules.map((name) => `node:${name}`)],
    },
  },
}

function project(
  name: string,
  include: string[],
  exclude: string[],
  extra: Record<string, string> = {},
  main?: string
) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        // wrangler.toml's main (the deployed entry) unless given.
        main,
        miniflare: { bindings: { ...bindings, ...extra } },
      }),
    ],
    // Time is virtual (test/support/setup.ts): no test waits for real seconds. The timeouts only
    // catch a hang: on a starved machine (npm run test:busy, two files at a time on two busy
    // cores) a 200-sign-up burst takes longer than vitest's default 5 s of wall time.
    test: {
      name,
      include,
      exclude,
      setupFiles: ['./test/support/setup.ts'],
      deps: { optimizer },
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  }
}

export default defineConfig({
  test: {
    // The logs of passing tests (one JSON line per sign-up) are not printed; a failure shows its.
    silent: 'passed-only',
    // Two files at a time, where vitest's default on a 2-core machine is one: most of a file's
    // time is its isolate starting and modules loading, which overlap well (107 s → 87 s here).
    // Time is virtual in every workerd test, so sharing the cores changes no outcome.
    maxWorkers: 2,
    projects: [
      // The default deployment shape in tests: a public client (PKCE, no secret).
      // Pure modules' sibling tests: web-standard code, run in Node, where a file costs no
      // workerd isolate to start.
      { test: { name: 'unit', include: ['src/**/*.test.ts'], environment: 'node' } },
      project(
        'workerd',
        ['test/workers/**/*.test.ts'],
        ['test/workers/confidential/**', 'test/workers/sandbox/**', 'test/workers/small-backlog/**']
      ),
      // A backlog cap small enough to reach in a test (OUTBOX_MAX_PENDING's lowest value).
      project('workerd-small-backlog', ['test/workers/small-backlog/**/*.test.ts'], [], {
        OUTBOX_MAX_PENDING: '10',
      }),
      // The same worker as a confidential client: CC_CLIENT_SECRET set, Basic auth on the exchange.
      project('workerd-confidential', ['test/workers/confidential/**/*.test.ts'], [], {
        CC_CLIENT_SECRET: 'test client secret!',
      }),
      // `npm start` without credentials: its entry, with the built-in sandbox standing in for
      // Constant Contact.
      project(
        'workerd-sandbox',
        ['test/workers/sandbox/**/*.test.ts'],
        [],
        {
          CTCT_SANDBOX: '1',
          CC_CLIENT_ID: 'sandbox-client',
          FORMS: JSON.stringify({
            newsletter: {
              lists: ['3a1b2c4d-0000-4000-8000-000000000001'],
              origins: ['http://localhost:8788'],
            },
          }),
        },
        './src/worker-sandbox.ts'
      ),
    ],
  },
})
