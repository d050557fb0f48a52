/**
 * The owner's browser's cookies as the tests need them, for the workerd and Deno suites alike:
 * reading a Set-Cookie, and keeping the Connect cookie (connection/oauth-routes.tsx) the way a
 * browser does.
 */

/** The cookie that binds a Connect to the browser that started it. */
export const CONNECT_COOKIE = '__Host-ctct_relay_connect'

/** `name=value` of the cookie a response sets, or '' (none, or a deletion). */
export function cookieFrom(res: Response, name: string): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))
  const pair = set?.split(';')[0] ?? ''
  return pair === `${name}=` ? '' : pair
}

/** The Connect cookie: set by /oauth/authorize, dropped when the callback deletes it. */
export class ConnectCookieJar {
  cookie = ''

  keep(res: Response): void {
    if (res.headers.getSetCookie().some((c) => c.startsWith(`${CONNECT_COOKIE}=`))) {
      this.cookie = cookieFrom(res, CONNECT_COOKIE)
    }
  }
}
