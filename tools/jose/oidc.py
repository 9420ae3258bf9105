"""A stand-in OpenID Connect provider for the gateway's tests, built on
jwcrypto (https://jwcrypto.readthedocs.io): the tokens the gateway verifies
are made by an implementation it did not write.

Reads a JSON spec on stdin and writes JSON on stdout:

    {"keys": [{"kid": "rsa-1", "kty": "RSA"}, {"kid": "ec-1", "kty": "EC"}],
     "tokens": [{"kid": "rsa-1", "alg": "RS256", "claims": {"iss": ..., "sub": ...}}]}

    -> {"jwks": {"keys": [public keys]}, "tokens": ["eyJ..."]}

Claims `exp`, `iat` and `nbf` may be given as offsets from now in seconds
with the key suffixed `_in` (e.g. "exp_in": 300, "exp_in": -60).
"""

import json
import sys
import time

from jwcrypto import jwk, jwt


def main():
    spec = json.load(sys.stdin)
    keys = {}
    for key in spec["keys"]:
        if key["kty"] == "RSA":
            made = jwk.JWK.generate(kty="RSA", size=2048, kid=key["kid"], use="sig")
        else:
            made = jwk.JWK.generate(kty="EC", crv="P-256", kid=key["kid"], use="sig")
        keys[key["kid"]] = made
    public = {"keys": [json.loads(k.export_public()) for k in keys.values()]}
    now = int(time.time())
    tokens = []
    for token in spec["tokens"]:
        claims = {}
        for name, value in token["claims"].items():
            if name.endswith("_in"):
                claims[name[: -len("_in")]] = now + int(value)
            else:
                claims[name] = value
        signed = jwt.JWT(
            header={"alg": token["alg"], "kid": token["kid"], "typ": "JWT"},
            claims=claims,
        )
        signed.make_signed_token(keys[token["kid"]])
        tokens.append(signed.serialize())
    json.dump({"jwks": public, "tokens": tokens}, sys.stdout)


if __name__ == "__main__":
    main()
