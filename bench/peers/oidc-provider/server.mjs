// The peer for BENCHMARKS.md: node oidc-provider (an OpenID-certified server), in memory, with
// refresh-token rotation, client_credentials and introspection on. Refresh tokens are minted
// through the provider's own models (it has no password grant), and written to a seed file for
// portcullis-bench. Usage: node server.mjs PORT SEED_FILE COUNT
import crypto from 'node:crypto';
import fs from 'node:fs';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

// The provider's own in-memory adapter, over an unbounded store: its default store is an LRU of
// 1000 entries, which evicts the seeded grants once a run has minted a few thousand tokens.
class UnboundedStore {
  #entries = new Map();

  get(key) {
    const entry = this.#entries.get(key);
    if (entry && entry.expiry !== undefined && entry.expiry <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry?.value;
  }

  set(key, value, options) {
    this.#entries.set(key, { value, expiry: options?.maxAge === undefined ? undefined : Date.now() + options.maxAge });
  }

  delete(key) {
    this.#entries.delete(key);
  }
}
const store = new UnboundedStore();

// PEER_ACCESS_TOKENS=jwt: access tokens are JWTs for a resource server, as ours are, so a
// refresh signs twice (access + id token) and client_credentials signs once. The default, opaque
// access tokens, is what userinfo and introspection need (they refuse resource-server JWTs).
const jwtAccessTokens = process.env.PEER_ACCESS_TOKENS === 'jwt';
const resource = 'urn:bench:api';
const allScopes = 'openid offline_access email profile';

// PEER_ALG=ES256 (default RS256): the algorithm of its id tokens (and JWT access tokens), so a
// run signs the same kind of JWT as Portcullis does (bench/side-by-side.sh).
const alg = process.env.PEER_ALG === 'ES256' ? 'ES256' : 'RS256';
const [port, seedFile, count] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4] || 1000)];
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = alg === 'ES256'
  ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `bench-${alg.toLowerCase()}`, use: 'sig', alg };

const provider = new Provider(issuer, {
  adapter: (model) => new MemoryAdapter(model, store),
  clients: [{
    client_id: 'bench-client',
    client_secret: 'bench-secret-0123456789abcdef',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: alg,
    introspection_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: jwtAccessTokens,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: allScopes, audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg } } }),
    },
  },
  rotateRefreshToken: true,
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@bench.example`, email_verified: true, preferred_username: id }),
  }),
  ttl: { AccessToken: 300, IdToken: 300, RefreshToken: 30 * 24 * 3600, ClientCredentials: 300, Grant: 30 * 24 * 3600 },
  issueRefreshToken: async () => true,
});
provider.proxy = false;

const client = await provider.Client.find('bench-client');
const tokens = [];
for (let i = 0; i < count; i += 1) {
  const accountId = `user${i % 32}`;
  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  grant.addOIDCScope(allScopes);
  if (jwtAccessTokens) grant.addResourceScope(resource, allScopes);
  const grantId = await grant.save();
  const refreshToken = new provider.RefreshToken({
    accountId, client, grantId, gty: 'authorization_code', scope: allScopes,
    ...(jwtAccessTokens ? { resource } : {}),
    authTime: Math.floor(Date.now() / 1000), rotations: 0,
  });
  tokens.push(await refreshToken.save());
}
fs.writeFileSync(seedFile, JSON.stringify({ issuer, refresh_tokens: tokens }));
provider.listen(port, '127.0.0.1', () => console.log(`listening on ${issuer}`));
