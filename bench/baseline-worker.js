/**
 * The baseline for the overhead benchmark: a bare Hono worker that forwards the visitor's JSON
 * to the same fake sign_up_form the relay uses, with a fixed bearer token. No validation, no
 * Durable Object, no storage: what "just forward it" costs. The form's names are renamed to
 * CC's (and the list added) and nothing more, because the fake is the model of CC, which
 * answers 400 to a body without `email_address` and `list_memberships`, as CC does.
 */
import { Hono } from 'hono'

const app = new Hono()

app.get('/healthz', (c) => c.json({ ok: true }))

app.post('/subscribe/:formId', async (c) => {
  const visitor = await c.req.json()
  const res = await fetch(`${c.env.CC_API_BASE_URL}/contacts/sign_up_form`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${c.env.CC_TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify({
      email_address: visitor.email,
      first_name: visitor.first_name,
      list_memberships: [c.env.CC_LIST],
    }),
  })
  await res.arrayBuffer()
  return c.json({ ok: res.ok, status: 'delivered' }, res.ok ? 200 : 502, {
    'access-control-allow-origin': c.req.header('origin') ?? '*',
  })
})

export default app
