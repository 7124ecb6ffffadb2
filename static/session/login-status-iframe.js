// The OP iframe of OpenID Connect Session Management 1.0 (section 3.2), as keycloak-js 26 talks
// to it: the app posts "<client_id> <session_state>" (keycloak-js sends the token's `sid`) and
// gets back "unchanged", "changed" or "error". The first message is checked once with the server
// (`.../login-status-iframe.html/init`: is that origin one of the client's web origins?); after
// that, every answer compares the message with the PORTCULLIS_SESSION_STATE cookie, which the
// server sets to the session's id at login and clears at logout. Served as a file, not inline,
// so the page runs under script-src 'self'.

const STATE_COOKIE = 'PORTCULLIS_SESSION_STATE'

// the pair /init approved, as a promise so that messages arriving together share one request
let approval

window.addEventListener('message', async (event) => {
  if (typeof event.data !== 'string') return
  const parts = event.data.split(' ')
  if (parts.length !== 2) return
  const [clientId, sessionState] = parts
  const status = await checkState(clientId, event.origin, sessionState)
  try {
    // only to the origin that asked (an opaque origin cannot be named, and was refused anyway)
    event.source?.postMessage(status, event.origin)
  } catch {
    // nothing to answer to
  }
})

async function checkState (clientId, origin, sessionState) {
  // without access to our own cookies the state cannot be read
  if (!(await hasStorageAccess())) return 'error'

  // one /init per iframe: a page cannot make it probe the server for client after client
  if (!approval) approval = approve(clientId, origin)
  const approved = await approval
  if (!approved) return 'error'

  const cookie = readCookie(STATE_COOKIE)
  // no browser session: a change only for an app that believes it has one
  if (!cookie) return sessionState !== '' ? 'changed' : 'unchanged'
  if (clientId !== approved.clientId || origin !== approved.origin) return 'error'
  return sessionState === cookie ? 'unchanged' : 'changed'
}

async function approve (clientId, origin) {
  const url = new URL(location.origin + location.pathname + '/init')
  url.searchParams.set('client_id', clientId)
  url.searchParams.set('origin', origin)
  try {
    const response = await fetch(url, { cache: 'no-store' })
    return response.ok ? { clientId, origin } : null
  } catch {
    return null
  }
}

// Storage Access API: where the browser partitions third-party storage, ask (without a user
// gesture, which may be refused); browsers without the API decide by their cookie settings alone.
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

function readCookie (name) {
  for (const pair of document.cookie.split(';')) {
    const at = pair.indexOf('=')
    if (at < 0) continue
    if (pair.slice(0, at).trim() !== name) continue
    const value = pair.slice(at + 1).trim()
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
  }
  return null
}
