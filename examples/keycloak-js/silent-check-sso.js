// The end of keycloak-js' silent check-sso: this page is the redirect_uri of a prompt=none
// authorization request in a hidden iframe; the app (same origin) reads the code or the
// login_required error from the URL.
window.parent.postMessage(window.location.href, window.location.origin)
