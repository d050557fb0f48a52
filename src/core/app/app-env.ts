/**
 * @module core/app/app-env
 * The Hono environment every area of the app shares. The app reads no bindings from `c.env`
 * (on Deno it is not the bindings at all): dependencies arrive through `createApp(deps)`, and the
 * validated configuration is set per request by the config check in app.ts.
 */
import type { Config } from './config.ts'

export type AppEnv = {
  Variables: {
    config: Config
  }
}
