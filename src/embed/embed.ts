/**
 * @module embed/embed
 * `GET /embed.js`: progressive enhancement for `<form data-ctct-relay>`: submits with fetch in JSON
 * mode and shows the outcome in place, in the form's language; without it the form still posts.
 * No dependencies and no inline styles (strict CSP works); size budget 2 KB gzipped (npm run
 * bench). Kept as a string of plain ES2017 so every runtime serves the same bytes without a build
 * step.
 */
export const EMBED_JS = `(function () {
  'use strict'
  function statusOf(form) {
    var s = form.querySelector('[data-ctct-status]')
    if (!s) {
      s = document.createElement('p')
      s.setAttribute('data-ctct-status', '')
      s.setAttribute('aria-live', 'polite')
      form.appendChild(s)
    }
    return s
  }
  function clearErrors(form) {
    form.querySelectorAll('[data-ctct-error]').forEach(function (n) { n.remove() })
    form.querySelectorAll('[aria-invalid]').forEach(function (n) { n.removeAttribute('aria-invalid') })
  }
  function showFieldErrors(form, fields) {
    Object.keys(fields || {}).forEach(function (name) {
      var input = form.querySelector('[name="' + name.replace(/"/g, '') + '"]')
      var note = document.createElement('span')
      note.setAttribute('data-ctct-error', name)
      note.setAttribute('role', 'alert')
      note.textContent = fields[name]
      if (input) {
        // A checkbox's note ends its group (lists) or follows its label (consent), outside the label.
        var box = input.type === 'checkbox'
        var group = box && input.closest('fieldset')
        form.querySelectorAll('[name="' + input.name + '"]').forEach(function (n) { n.setAttribute('aria-invalid', 'true') })
        if (group) group.appendChild(note)
        else ((box && input.closest('label')) || input).insertAdjacentElement('afterend', note)
      } else {
        statusOf(form).insertAdjacentElement('beforebegin', note)
      }
    })
  }
  function collect(form) {
    var data = {}
    new FormData(form).forEach(function (value, key) {
      if (typeof value !== 'string') return
      ;(data[key] = data[key] || []).push(value)
    })
    // Where the sign-up came from, for forms that record it (a plain post has the Referer).
    data._page = [location.href]
    if (document.referrer) data._referrer = [document.referrer]
    return data
  }
  function text(form, name, fallback) {
    return form.getAttribute('data-ctct-' + name) || fallback
  }
  // A Turnstile token is spent once verified: get a fresh one so a retry can pass.
  function resetChallenge(form) {
    var widget = form.querySelector('.cf-turnstile')
    if (widget && window.turnstile) window.turnstile.reset(widget)
  }
  function enhance(form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault()
      var status = statusOf(form)
      clearErrors(form)
      form.setAttribute('data-state', 'sending')
      status.textContent = text(form, 'sending', 'Sending…')
      fetch(form.action, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify(collect(form)),
      })
        .then(function (res) {
          return res.json().catch(function () { return { ok: false } })
        })
        .then(function (body) {
          resetChallenge(form)
          if (body.ok) {
            form.setAttribute('data-state', 'done')
            status.textContent = text(form, 'success', body.message || 'Thanks! You are signed up.')
            form.reset()
            return
          }
          form.setAttribute('data-state', 'error')
          status.textContent = body.message || 'Something went wrong. Please try again.'
          showFieldErrors(form, body.fields)
        })
        .catch(function () {
          resetChallenge(form)
          form.setAttribute('data-state', 'error')
          status.textContent = text(form, 'network', 'Could not reach the sign-up service. Please try again.')
        })
    })
  }
  function init() {
    document.querySelectorAll('form[data-ctct-relay]').forEach(enhance)
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
`
