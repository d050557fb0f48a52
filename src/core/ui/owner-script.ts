/**
 * @module core/ui/owner-script
 * /assets/owner.js, the owner pages' one script (CSP `script-src 'self'`): a Copy button for the
 * snippet. Every page works without it: the button stays hidden and the snippet is a read-only
 * text area the owner selects. A string, like embed.js, so no build step serves it.
 */
export const OWNER_JS = `(function () {
  'use strict'
  document.querySelectorAll('textarea[data-copy-source]').forEach(function (area) {
    area.addEventListener('focus', function () { area.select() })
  })
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var area = document.getElementById(button.getAttribute('data-copy'))
    var status = button.parentElement.querySelector('[data-copy-status]')
    if (!area) return
    button.hidden = false
    button.addEventListener('click', function () {
      var done = function () { if (status) status.textContent = 'Copied.' }
      var fallback = function () {
        // Without the async clipboard (an http:// origin other than localhost), select and copy.
        area.focus()
        area.select()
        if (document.execCommand('copy')) done()
        else if (status) status.textContent = 'Selected: press Ctrl+C (or ⌘C) to copy.'
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(area.value).then(done, fallback)
      } else {
        fallback()
      }
    })
  })
})()
`
