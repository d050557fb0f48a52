/**
 * A session cookie minted by the WebCrypto JWT code that jose replaced (commit 12465a8):
 * `issueSession(ADMIN_TOKEN, MINTED_AT, ID)`, with the workerd suite's ADMIN_TOKEN. Cookies
 * already issued must keep verifying, or every deployment that updates signs its owner out.
 * Minted later than any session the suites open, so no sign-in of theirs ends it.
 */
export const OLD_SESSION = {
  ADMIN_TOKEN: 'test-admin-token-0123456789',
  MINTED_AT: Date.UTC(2036, 5, 1, 12, 0, 0),
  ID: 'Wm9xQ2tH1uTf0rS-p8Lw3vYb_6NdEa5cJiX7gOq2zKc',
  COOKIE:
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvd25lciIsImp0aSI6IldtOXhRMnRIMXVUZjByUy1wOEx3M3ZZYl82TmRFYTVjSmlYN2dPcTJ6S2MiLCJpYXQiOjIwOTU5MzQ0MDAsImV4cCI6MjA5NTk2MzIwMH0.EoVv-V-J5HZ_11Wqp-wp7tWH0r5bZ-Vqq3TqAuLPzr0',
} as const
