// keycloak-js' third-party-cookie probe, step 1: with storage access, set a short-lived test
// cookie and go on to step 2, which reads it back; without, answer "unsupported" at once. The
// test cookie has the same SameSite and Secure attributes as PORTCULLIS_SESSION_STATE (None and
// Secure over https, Lax over http), so "supported" means the session iframe can read its cookie
// from where this frame is embedded.

const secure = location.protocol === 'https:'
const attributes = secure ? '; SameSite=None; Secure' : '; SameSite=Lax'

async function hasStorageAccess () {
  if (!('hasStorageAccess' in document)) return true
  if (await document.hasStorageAccess()) return true
  try {
    await document.requestStorageAccess()
    return true
  } catch {
    return false
  }
}

if (await hasStorageAccess()) {
  document.cookie = `PORTCULLIS_3P_COOKIE=supported; Max-Age=60${attributes}`
  location.replace('step2.html')
} else {
  window.parent.postMessage('unsupported', '*')
}
