// openid-client 6 against Portcullis, driven by tests/api/interop_openid_client.rs, in two steps
// around the browser's login (which the Rust test performs):
//   node par.mjs start  <issuer> <client_id> <secret> <redirect_uri>
//     discovery, then a pushed authorization request (RFC 9126) with PKCE and state; prints
//     {"url", "verifier", "state"} where url is the authorization URL with the request_uri
//   node par.mjs finish <issuer> <client_id> <secret> <callback_url> <verifier> <state>
//     the code exchange with openid-client's checks (state, iss, PKCE, ID token); prints the
//     ID token's claims and the token type
// The issuer is plain http on loopback, hence allowInsecureRequests.
import * as client from 'openid-client'

const [mode, issuer, clientId, secret, ...rest] = process.argv.slice(2)
const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretPost(secret), {
  execute: [client.allowInsecureRequests]
})

if (mode === 'start') {
  const [redirectUri] = rest
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state
  })
  console.log(JSON.stringify({ url: url.href, verifier, state }))
} else if (mode === 'finish') {
  const [callback, verifier, state] = rest
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedState: state
  })
  console.log(JSON.stringify({ claims: tokens.claims(), token_type: tokens.token_type }))
} else {
  console.error(`unknown mode ${mode}`)
  process.exit(2)
}
