// openid-client 6 reading a signed userinfo answer (OIDC Core §5.3.2) from Portcullis, driven by
// tests/api/interop_openid_client.rs:
//   node signed-userinfo.mjs <issuer> <client_id> <username> <password>
// The client is registered with `userinfo_signed_response_alg: RS256`, so the library requires an
// `application/jwt` answer and checks its signature against the realm's JWKS, its `iss` and `aud`.
// Prints the userinfo claims it accepted. Plain http on loopback, hence allowInsecureRequests.
import * as client from 'openid-client'

const [issuer, clientId, username, password] = process.argv.slice(2)
const config = await client.discovery(new URL(issuer), clientId, { userinfo_signed_response_alg: 'RS256' }, client.None(), {
  execute: [client.allowInsecureRequests]
})
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())
const tokens = await client.genericGrantRequest(config, 'password', { username, password, scope: 'openid' })
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims(tokens.access_token).sub)
console.log(JSON.stringify({ userinfo }))
