/** @module views/visitor: the pages a visitor sees after a plain HTML form post. */
import { NextStep, Page } from './layout.tsx'

/** The built-in thank-you page, for profiles without a success_url. */
export function ThanksPage({ siteUrl }: { siteUrl: string }) {
  return (
    <Page title="Thanks for signing up!">
      <p class="message">You're on the list.</p>
      <NextStep href={siteUrl} label="Back to the site" />
    </Page>
  )
}

/** Says what was wrong (field by field for invalid input) and links back to the form's site. */
export function SignupErrorPage(props: {
  message: string
  fields: Record<string, string>
  back: string
}) {
  const fields = Object.entries(props.fields)
  return (
    <Page title="Sign-up not completed">
      <p class="message">{props.message}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map(([name, problem]) => (
            <li>
              <strong>{name}</strong>: {problem}
            </li>
          ))}
        </ul>
      )}
      <NextStep href={props.back} label="Back to the site" />
    </Page>
  )
}
