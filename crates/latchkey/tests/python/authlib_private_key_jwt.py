"""Gets a client credentials token from latchkey with authlib's private_key_jwt client
authentication (RFC 7523 section 2.2), as a Python service would, and prints the token answer
as one JSON line.

Reads TOKEN_URL (where to send the request), AUDIENCE (the assertion's aud: authlib's default is
the token endpoint URL it posts to; here it is the one latchkey's issuer names), CLIENT_ID,
KEY_FILE (a PKCS#8 PEM private key), KID and ALG from the environment.
"""

import json
import os

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey, OKPKey, RSAKey

# authlib reads a PEM string as an RSA key; other key types are given as key objects.
KEY_TYPES = {"RS256": RSAKey, "PS256": RSAKey, "ES256": ECKey, "EdDSA": OKPKey}


def main():
    alg = os.environ["ALG"]
    with open(os.environ["KEY_FILE"], encoding="ascii") as key_file:
        private_key = KEY_TYPES[alg].import_key(key_file.read())
    session = OAuth2Session(
        os.environ["CLIENT_ID"],
        private_key,
        token_endpoint_auth_method="private_key_jwt",
    )
    session.register_client_auth_method(
        PrivateKeyJWT(
            os.environ["AUDIENCE"],
            headers={"kid": os.environ["KID"]},
            alg=alg,
        )
    )
    token = session.fetch_token(os.environ["TOKEN_URL"], grant_type="client_credentials")
    print(json.dumps(dict(token)))


if __name__ == "__main__":
    main()
