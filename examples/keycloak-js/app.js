// keycloak-js, unchanged and with its default options, against Portcullis. check-sso asks
// Portcullis' session iframe whether the browser has a session (and, if it has, signs in silently
// through silent-check-sso.html in a hidden iframe); without one the page offers a "Sign in"
// button. Once signed in: force a refresh through rotation, read userinfo (a CORS request with a
// preflight), then wait for the user to log out. keycloak-js keeps polling the session iframe
// (every 5 seconds by default) and calls onAuthLogout when the session ends elsewhere, e.g. in
// another tab. Each step is written into the page, which is what tests/api/example_keycloak_js.rs
// reads.
import Keycloak from './node_modules/keycloak-js/lib/keycloak.js'

const $ = (id) => document.getElementById(id)

function step (id, text) {
  const item = document.createElement('li')
  item.id = `step-${id}`
  item.textContent = text
  $('progress').append(item)
}

function fail (error) {
  $('error').textContent = `error: ${error?.message ?? error}${error?.response ? ` (HTTP ${error.response.status})` : ''}`
  $('error').hidden = false
}

async function refresh (keycloak) {
  const before = { access: keycloak.token, refresh: keycloak.refreshToken }
  // -1 forces a refresh whatever the access token's remaining lifetime
  const refreshed = await keycloak.updateToken(-1)
  if (!refreshed) throw new Error('updateToken(-1) did not refresh')
  if (keycloak.token === before.access) throw new Error('the access token did not change')
  if (keycloak.refreshToken === before.refresh) throw new Error('the refresh token was not rotated')
  return keycloak.refreshTokenParsed.exp
}

function offerSignIn () {
  $('session').hidden = true
  $('refresh').hidden = true
  $('logout').hidden = true
  $('login').hidden = false
}

async function main () {
  // config.json names the server, realm and client, so the page works against any Portcullis
  const config = await (await fetch('./config.json')).json()
  const keycloak = new Keycloak(config)

  // the session iframe saw the browser session end (logout in another tab, or elsewhere)
  keycloak.onAuthLogout = () => {
    step('auth-logout', 'keycloak-js: the session ended (onAuthLogout)')
    offerSignIn()
  }
  $('login').addEventListener('click', () => keycloak.login().catch(fail))

  // keycloak-js' defaults otherwise: checkLoginIframe true (every 5 s), pkceMethod S256,
  // responseMode fragment, and the third-party-cookie probe before anything else
  const authenticated = await keycloak.init({
    onLoad: 'check-sso',
    silentCheckSsoRedirectUri: new URL('silent-check-sso.html', window.location.href).href
  })
  if (!authenticated) {
    step('anonymous', 'not signed in: sign in with the button')
    offerSignIn()
    return
  }
  step('login', `signed in as ${keycloak.tokenParsed.preferred_username} with client ${keycloak.tokenParsed.azp}`)
  $('username').textContent = keycloak.tokenParsed.preferred_username
  $('sid').textContent = keycloak.tokenParsed.sid
  $('session').hidden = false

  const refreshExp = await refresh(keycloak)
  step('refresh', `updateToken(-1): new access token and rotated refresh token (valid until ${new Date(refreshExp * 1000).toISOString()})`)

  const userInfo = await keycloak.loadUserInfo()
  step('userinfo', `userinfo says ${userInfo.preferred_username} <${userInfo.email}>`)

  $('refresh').hidden = false
  $('refresh').addEventListener('click', () => {
    refresh(keycloak).then(() => step('refresh-again', 'refreshed again'), fail)
  })
  $('logout').hidden = false
  $('logout').addEventListener('click', () => {
    // back to this page afterwards, which (check-sso) then finds no session and offers to sign in
    keycloak.logout().catch(fail)
  })
  step('ready', 'ready: log out with the button')
}

main().catch(fail)
