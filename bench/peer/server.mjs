// node-oidc-provider (npm `oidc-provider`), configured as close to latchkey as it allows, for the
// side-by-side benchmark: client_credentials, client_secret_post, JWT access tokens signed with
// ALG (RS256, ES256 or EdDSA), a 300 s token lifetime, APPS clients named like latchkey's bench
// apps (bench-<i> / secret-<i>). Binds 127.0.0.1:PORT only.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 9090);
const apps = Number(process.env.APPS ?? 1);
const alg = process.env.ALG ?? 'RS256';

const generate = {
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: () => generateKeyPairSync('ed25519'),
}[alg];
const jwk = { ...generate().privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: 'bench' };

const clients = Array.from({ length: apps }, (_, i) => ({
  client_id: `bench-${i}`,
  client_secret: `secret-${i}`,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_post',
  // Client metadata defaults to RS256 ID tokens, which a provider without an RSA key refuses.
  id_token_signed_response_alg: alg,
}));

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients,
  jwks: { keys: [jwk] },
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'bench',
        audience: 'urn:bench',
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`peer listening on http://127.0.0.1:${port}`));
