// Verifies an access token as an RFC 9068 resource server does, with oauth4webapi: the
// authorization server's metadata from RFC 8414 discovery at the issuer, then
// validateJwtAccessToken (typ at+jwt, required claims, issuer, audience, signature by a key of
// the discovered JWKS). Run by the black-box tests; prints one JSON line either way.
//
// Input from the environment: ISSUER, AUDIENCE, ACCESS_TOKEN.
import * as oauth from 'oauth4webapi';

const { ISSUER, AUDIENCE, ACCESS_TOKEN } = process.env;
// The tests' server listens on plain http on 127.0.0.1.
const options = { [oauth.allowInsecureRequests]: true };

try {
  const issuer = new URL(ISSUER);
  const discovery = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' });
  const as = await oauth.processDiscoveryResponse(issuer, discovery);
  const request = new Request('http://resource.test/', {
    headers: { authorization: `Bearer ${ACCESS_TOKEN}` },
  });
  const claims = await oauth.validateJwtAccessToken(as, request, AUDIENCE, options);
  // What resource servers do with an RFC 9068 scope claim.
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : null;
  console.log(JSON.stringify({ ok: true, claims, scopes }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: `${error.name}: ${error.message}`, code: error.code ?? null }));
}
