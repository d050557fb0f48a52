/** @module core/signup/visitor-pages: the pages a visitor sees after a plain HTML form post. */

import { NextStep, Page } from '../ui/layout.tsx'
import type { VisitorText } from './visitor-text.ts'

/** The built-in thank-you page, for profiles without a success_url. */
export function ThanksPage({ siteUrl, text }: { siteUrl: string; text: VisitorText }) {
  return (
    <Page title={text.thanks_title} lang={text.lang}>
      <p class="message">{text.success}</p>
      <NextStep href={siteUrl} label={text.back} />
    </Page>
  )
}

/**
 * Says what was wrong (field by field for invalid input) and links back to the form's site. A
 * field is named by its label where the visitor saw one (`labels`), else by its name.
 */
export function SignupErrorPage(props: {
  message: string
  fields: Record<string, string>
  labels?: Record<string, string>
  back: string
  text: VisitorText
}) {
  const fields = Object.entries(props.fields)
  return (
    <Page title={props.text.error_title} lang={props.text.lang}>
      <p class="message">{props.message}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map(([name, problem]) => (
            <li>
              <strong>{props.labels?.[name] ?? name}</strong>: {problem}
            </li>
          ))}
        </ul>
      )}
      <NextStep href={props.back} label={props.text.back} />
    </Page>
  )
}
