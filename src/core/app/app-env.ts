/**
 * @module core/app/app-env
 * The Hono environment every part of the app shares. The app never reads bindings from `c.env`
 * (on Deno it is not the bindings): dependencies come through `createApp(deps)`, and the
 * validated config is set per request.
 */
import type { Config } from './config.ts'

export type AppEnv = {
  Variables: {
    config: Config
  }
}
