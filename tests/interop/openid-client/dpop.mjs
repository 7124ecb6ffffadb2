// openid-client 6's DPoP (RFC 9449) against Portcullis, driven by tests/api/interop_openid_client.rs:
//   node dpop.mjs <issuer> <client_id> <username> <password>
// as a public client with a fresh ES256 key pair: a password grant (openid-client's generic grant)
// with a DPoP proof, a refresh with a proof, then userinfo under the DPoP scheme (the library adds
// `ath`). For a client with `dpop.nonce.required` the library answers each `use_dpop_nonce` with a
// retry carrying the server's nonce (RFC 9449 §8, §9) on its own. Prints the token types, the
// access token's cnf.jkt, the key's own thumbprint and the userinfo answer. The issuer is plain
// http on loopback, hence allowInsecureRequests.
import * as client from 'openid-client'

const [issuer, clientId, username, password] = process.argv.slice(2)
const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests]
})
const keyPair = await client.randomDPoPKeyPair('ES256')
const DPoP = client.getDPoPHandle(config, keyPair)
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())

const first = await client.genericGrantRequest(config, 'password', { username, password, scope: 'openid' }, { DPoP })
const refreshed = await client.refreshTokenGrant(config, first.refresh_token, undefined, { DPoP })
const sub = claims(refreshed.access_token).sub
const userinfo = await client.fetchUserInfo(config, refreshed.access_token, sub, { DPoP })
const jwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey)
const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
const thumbprint = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical))).toString('base64url')
console.log(JSON.stringify({
  first_type: first.token_type,
  refreshed_type: refreshed.token_type,
  jkt: claims(refreshed.access_token).cnf?.jkt,
  thumbprint,
  userinfo
}))
