// openid-client 6's JWT client authentication (RFC 7523) against Portcullis, driven by
// tests/api/interop_openid_client.rs:
//   node jwt.mjs keygen
//     a new ES256 key pair; prints {"private": JWK, "public": JWK} (kid set)
//   node jwt.mjs private-key <issuer> <client_id> <private JWK>
//     client_credentials with PrivateKeyJwt; prints the token response's claims of interest
//   node jwt.mjs secret <issuer> <client_id> <secret>
//     client_credentials with ClientSecretJwt (HS256)
// The issuer is plain http on loopback, hence allowInsecureRequests.
import * as client from 'openid-client'

const [mode, issuer, clientId, credential] = process.argv.slice(2)

if (mode === 'keygen') {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const kid = `k-${crypto.randomUUID()}`
  const privateJwk = { ...(await crypto.subtle.exportKey('jwk', pair.privateKey)), kid, alg: 'ES256' }
  const publicJwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid, alg: 'ES256', use: 'sig' }
  console.log(JSON.stringify({ private: privateJwk, public: publicJwk }))
  process.exit(0)
}

let auth
if (mode === 'private-key') {
  const jwk = JSON.parse(credential)
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  auth = client.PrivateKeyJwt({ key, kid: jwk.kid })
} else if (mode === 'secret') {
  auth = client.ClientSecretJwt(credential)
} else {
  console.error(`unknown mode ${mode}`)
  process.exit(2)
}
const config = await client.discovery(new URL(issuer), clientId, undefined, auth, { execute: [client.allowInsecureRequests] })
let tokens
try {
  tokens = await client.clientCredentialsGrant(config)
} catch (error) {
  console.error(`${error.message}: ${JSON.stringify(error.cause)}`)
  process.exit(1)
}
const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url'))
console.log(JSON.stringify({ token_type: tokens.token_type, azp: payload.azp, iss: payload.iss }))
