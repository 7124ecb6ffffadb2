// openid-client 6's genericGrantRequest as an RFC 8693 token exchange against Portcullis, driven
// by tests/api/token_exchange.rs:
//   node exchange.mjs <issuer> <client_id> <client_secret> <subject_token> <json of extra parameters>
// prints {"ok": {...}} with the response's fields and the new access token's claims of interest,
// or {"error": ..., "error_description": ..., "status": ...} when the server refuses.
// The issuer is plain http on loopback, hence allowInsecureRequests.
import * as client from 'openid-client'

const [issuer, clientId, secret, subjectToken, extra] = process.argv.slice(2)
const config = await client.discovery(new URL(issuer), clientId, secret, client.ClientSecretBasic(secret), {
  execute: [client.allowInsecureRequests],
})
const parameters = new URLSearchParams({
  subject_token: subjectToken,
  subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
})
for (const [name, value] of Object.entries(JSON.parse(extra || '{}'))) {
  for (const one of [value].flat()) parameters.append(name, one)
}
let tokens
try {
  tokens = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', parameters)
} catch (error) {
  if (error instanceof client.ResponseBodyError) {
    console.log(JSON.stringify({ error: error.error, error_description: error.error_description, status: error.status }))
    process.exit(0)
  }
  console.error(`${error.message}: ${JSON.stringify(error.cause)}`)
  process.exit(1)
}
const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url'))
console.log(JSON.stringify({
  ok: {
    issued_token_type: tokens.issued_token_type,
    token_type: tokens.token_type,
    expires_in: tokens.expiresIn(),
    scope: tokens.scope,
    has_refresh_token: typeof tokens.refresh_token === 'string',
    has_id_token: typeof tokens.id_token === 'string',
    access_token: tokens.access_token,
    claims: { aud: claims.aud, azp: claims.azp, sub: claims.sub, scope: claims.scope, sid: claims.sid },
  },
}))
