// openid-client 6's device authorization grant (RFC 8628) against Portcullis, driven by
// tests/api/interop_openid_client.rs in two steps around the user's approval in the browser
// (which the Rust test performs), as a public client:
//   node device.mjs start <issuer> <client_id>
//     discovery, then the device authorization request; prints the response as JSON
//   node device.mjs poll  <issuer> <client_id> <response_json>
//     openid-client's polling of the token endpoint until it has tokens (with its checks of
//     the ID token); prints the ID token's claims, the token type and whether a refresh token came
// The issuer is plain http on loopback, hence allowInsecureRequests.
import * as client from 'openid-client'

const [mode, issuer, clientId, response] = process.argv.slice(2)
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests]
})

if (mode === 'start') {
  const started = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' })
  console.log(JSON.stringify(started))
} else if (mode === 'poll') {
  const tokens = await client.pollDeviceAuthorizationGrant(config, JSON.parse(response))
  console.log(JSON.stringify({ claims: tokens.claims(), token_type: tokens.token_type, refresh: !!tokens.refresh_token }))
} else {
  console.error(`unknown mode ${mode}`)
  process.exit(2)
}
