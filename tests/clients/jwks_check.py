"""Verifies a chatgate access token with an independent JOSE library (PyJWT), using only the server's
published JWKS and metadata:  python3 jwks_check.py BASE_URL TOKEN
Prints the verified claims as JSON; exits non-zero if verification fails."""
import json
import sys
import urllib.request

import jwt

base, token = sys.argv[1], sys.argv[2]
meta = json.load(urllib.request.urlopen(base + "/.well-known/oauth-authorization-server"))
header = jwt.get_unverified_header(token)
assert header["typ"] == "at+jwt" and header["alg"] == "EdDSA", header
key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token)
claims = jwt.decode(token, key.key, algorithms=["EdDSA"], issuer=meta["issuer"],
                    audience=meta["issuer"] + "/api/json",
                    options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"]})
print(json.dumps(claims))
