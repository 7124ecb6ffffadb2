// keycloak-js, unchanged, against Portcullis. Sign in (login-required: the page redirects to the
// login page until there is a session), force a refresh through rotation, read userinfo (a CORS
// request with a preflight), then wait for the user to log out. Each step is written into the
// page, which is what tests/api/example_keycloak_js.rs reads.
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

async function main () {
  // config.json names the server, realm and client, so the page works against any Portcullis
  const config = await (await fetch('./config.json')).json()
  const keycloak = new Keycloak(config)

  const authenticated = await keycloak.init({
    onLoad: 'login-required',
    pkceMethod: 'S256',
    // the session-status iframe and its third-party-cookie probe are not served by Portcullis
    // (and third-party cookies are blocked by current browsers anyway)
    checkLoginIframe: false
  })
  if (!authenticated) throw new Error('init resolved without a session')
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
    // back to this page afterwards, which (login-required) shows the login page again
    keycloak.logout().catch(fail)
  })
  step('ready', 'ready: log out with the button')
}

main().catch(fail)
