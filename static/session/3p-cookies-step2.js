// keycloak-js' third-party-cookie probe, step 2: the test cookie of step 1 came back or it did
// not. The answer goes to any parent ('*'), as Keycloak's does: it says nothing about the user.

const secure = location.protocol === 'https:'
const attributes = secure ? '; SameSite=None; Secure' : '; SameSite=Lax'
const supported = document.cookie.split(';').some((pair) => pair.trim().startsWith('PORTCULLIS_3P_COOKIE='))
document.cookie = `PORTCULLIS_3P_COOKIE=; Max-Age=0${attributes}`
window.parent.postMessage(supported ? 'supported' : 'unsupported', '*')
