/**
 * @module core/forms/turnstile-warning
 * The dashboard's warning on a form without Turnstile: anyone can post any address to it, and
 * sign_up_form treats that as the contact's consent, re-subscribing even someone who unsubscribed
 * (README "Consent and abuse").
 */
export function TurnstileWarning({ turnstile }: { turnstile: boolean }) {
  if (turnstile) return null
  return (
    <p class="advice" data-warning="no-turnstile">
      No Turnstile: anyone can sign up any address here, and Constant Contact takes it as consent,
      even from a contact who unsubscribed. See the README, "Consent and abuse".
    </p>
  )
}
