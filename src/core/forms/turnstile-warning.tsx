/**
 * @module core/forms/turnstile-warning
 * The dashboard's warning on a form without Turnstile. Anyone can post any address to such a
 * form, and Constant Contact's sign_up_form takes it as the contact's own consent: it opts in
 * even a contact who had unsubscribed, and overwrites their names (README "Consent and abuse").
 */
export function TurnstileWarning({ turnstile }: { turnstile: boolean }) {
  if (turnstile) return null
  return (
    <p class="error" data-warning="no-turnstile">
      No Turnstile: anyone can sign up any address here, and Constant Contact takes it as consent,
      even from a contact who unsubscribed. See the README, "Consent and abuse".
    </p>
  )
}
