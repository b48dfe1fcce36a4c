// Passkeys: asks the provider for the ceremony's options, calls navigator.credentials, and submits the answer
// in the page's form, where the provider verifies it. Without this script (or without WebAuthn in the browser)
// the page says a passkey needs it, and every other way to sign in still works.

class ProviderError extends Error {}

function toBytes (base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/')
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4)
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0))
}

function toBase64url (buffer) {
  const bytes = new Uint8Array(buffer)
  let text = ''
  for (const byte of bytes) text += String.fromCharCode(byte)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function withIds (descriptors) {
  return (descriptors || []).map((descriptor) => ({ ...descriptor, id: toBytes(descriptor.id) }))
}

function creationOptions (json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json)
  return {
    ...json,
    challenge: toBytes(json.challenge),
    user: { ...json.user, id: toBytes(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials)
  }
}

function requestOptions (json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json)
  return { ...json, challenge: toBytes(json.challenge), allowCredentials: withIds(json.allowCredentials) }
}

function credentialJson (credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON()
  const response = credential.response
  const json = {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: toBase64url(response.clientDataJSON) }
  }
  if (response.attestationObject) {
    json.response.attestationObject = toBase64url(response.attestationObject)
    json.response.transports = response.getTransports ? response.getTransports() : []
  } else {
    json.response.authenticatorData = toBase64url(response.authenticatorData)
    json.response.signature = toBase64url(response.signature)
    json.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null
  }
  return json
}

function showError (form, message) {
  const summary = document.querySelector('[data-passkey-error-summary]')
  if (!summary) return
  summary.querySelector('[data-passkey-error-message]').textContent = message
  for (const other of document.querySelectorAll('.govuk-error-summary:not([data-passkey-error-summary])')) other.hidden = true
  summary.hidden = false
  summary.focus()
  form.querySelector('button, input[type=submit]').disabled = false
}

async function runCeremony (form) {
  const kind = form.dataset.passkeyCeremony
  const token = form.querySelector('input[name=csrf_token]').value
  const reply = await fetch(form.dataset.optionsUrl, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-CSRFToken': token, Accept: 'application/json' }
  })
  const body = await reply.json().catch(() => ({}))
  if (!reply.ok) throw new ProviderError(body.error || form.dataset.messageFailed)
  const credential = kind === 'create'
    ? await navigator.credentials.create({ publicKey: creationOptions(body) })
    : await navigator.credentials.get({ publicKey: requestOptions(body) })
  form.querySelector('input[name=credential]').value = JSON.stringify(credentialJson(credential))
  // The form's button is named "submit", which hides the form's own submit method.
  HTMLFormElement.prototype.submit.call(form)
}

function start (form) {
  if (!window.PublicKeyCredential || !navigator.credentials) return // the page keeps saying what a passkey needs
  for (const element of document.querySelectorAll('[data-passkey-needs-script]')) element.hidden = true
  for (const element of form.querySelectorAll('[data-passkey-with-script]')) element.hidden = false
  form.addEventListener('submit', (event) => {
    const name = form.querySelector('input[name=name]')
    if (name && !name.value.trim()) return // the provider says a name is needed
    event.preventDefault()
    form.querySelector('button, input[type=submit]').disabled = true
    runCeremony(form).catch((error) => {
      let message = form.dataset.messageFailed
      if (error instanceof ProviderError) message = error.message
      else if (error && error.name === 'InvalidStateError') message = form.dataset.messageExists
      else if (error && (error.name === 'NotAllowedError' || error.name === 'AbortError')) message = form.dataset.messageCancelled
      showError(form, message)
    })
  })
}

for (const form of document.querySelectorAll('form[data-passkey-ceremony]')) start(form)
