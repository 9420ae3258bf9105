"""A hospital on the National Health Claims Exchange, built from libraries the
mesh did not write: jwcrypto (JWE, JWT) and fhir.resources (FHIR R4B models).
The mesh's interop tests play the hospital with it, and docs/NHCX.md uses it
as the copy-paste example of an integration.

    hospital.py keygen --out DIR
        DIR/hospital-key.pem (private) and DIR/hospital-public.pem
    hospital.py send KIND --mesh URL --sender CODE --recipient CODE --key PEM
                     --args JSON [fault options]
        builds a KIND bundle (eligibility, preauth, claim, communication,
        paymentack; or raw: --args is sent as it is), validates it with
        fhir.resources, encrypts it to the mesh's public key (fetched from
        URL/nhcx/encryption-key.pem), signs a bearer token with PEM, posts it,
        and prints {"status": HTTP status, "body": reply, "api_call_id": ...}
    hospital.py receive --key PEM --mesh URL --mesh-code CODE --log FILE
                        [--port N | --port-file FILE] [--fail-first N]
        serves the hospital's callback endpoints on port N (or a free port,
        written to FILE); every callback's bearer token is checked with the mesh's key,
        its payload decrypted with PEM and validated with fhir.resources; one
        JSON line per callback is appended to the log

Every path is under the protocol's version prefix (--prefix, default /v0.7).
"""

import argparse
import datetime
import http.server
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

from fhir.resources.R4B.bundle import Bundle
from jwcrypto import jwe, jwk, jwt

PACKAGE = "https://pmjay.gov.in/hbp-package-code"
CARD = "https://pmjay.gov.in/identifier/card-number"
BENEFICIARY = "https://pmjay.gov.in/identifier/beneficiary-id"
ABHA = "https://healthid.abdm.gov.in"
HFR = "https://facility.abdm.gov.in"
HPR = "https://doctor.abdm.gov.in"
PATHS = {
    "eligibility": "/coverageeligibility/check",
    "preauth": "/preauth/submit",
    "claim": "/claim/submit",
    "communication": "/communication/on_request",
    "paymentack": "/paymentnotice/on_request",
}


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def patient_entry(args):
    systems = {"card": CARD, "beneficiary_id": BENEFICIARY, "abha": ABHA}
    identifiers = [
        {"system": systems[kind], "value": args[kind]} for kind in systems if kind in args
    ]
    return {"fullUrl": "urn:uuid:patient", "resource": {"resourceType": "Patient", "identifier": identifiers}}


def organisations(args):
    provider = {"resourceType": "Organization", "name": "hospital"}
    if args.get("hfr_id"):
        provider["identifier"] = [{"system": HFR, "value": args["hfr_id"]}]
    return [
        {"fullUrl": "urn:uuid:provider", "resource": provider},
        {"fullUrl": "urn:uuid:payer", "resource": {"resourceType": "Organization", "name": "payer"}},
        {
            "fullUrl": "urn:uuid:coverage",
            "resource": {
                "resourceType": "Coverage",
                "status": "active",
                "beneficiary": {"reference": "urn:uuid:patient"},
                "payor": [{"reference": "urn:uuid:payer"}],
            },
        },
    ]


def claim(args, use):
    resource = {
        "resourceType": "Claim",
        "identifier": [{"system": "https://his.example.org/claim", "value": args["request_id"]}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"}]},
        "use": use,
        "patient": {"reference": "urn:uuid:patient"},
        "created": now(),
        "insurer": {"reference": "urn:uuid:payer"},
        "provider": {"reference": "urn:uuid:provider"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "urn:uuid:coverage"}}],
        "item": [],
    }
    entries = [patient_entry(args)] + organisations(args)
    if use == "preauthorization":
        resource["billablePeriod"] = {"start": args["admission_date"]}
        resource["careTeam"] = [{"sequence": 1, "provider": {"reference": "urn:uuid:doctor"}}]
        resource["diagnosis"] = [{"sequence": 1, "diagnosisCodeableConcept": {"text": args["diagnosis"]}}]
        for i, code in enumerate(args["packages"]):
            resource["item"].append({"sequence": i + 1, "productOrService": {"coding": [{"system": PACKAGE, "code": code}]}})
        entries.append({
            "fullUrl": "urn:uuid:doctor",
            "resource": {"resourceType": "Practitioner", "identifier": [{"system": HPR, "value": args["hpr_id"]}]},
        })
    else:
        resource["insurance"][0]["preAuthRef"] = [args["preauth_id"]]
        for i, line in enumerate(args["bill"]):
            resource["item"].append({
                "sequence": i + 1,
                "productOrService": {"coding": [{"system": PACKAGE, "code": line["package_code"]}], "text": line["description"]},
                "net": {"value": line["rupees"], "currency": "INR"},
            })
    return [{"fullUrl": "urn:uuid:claim", "resource": resource}] + entries


def bundle_of(kind, args):
    if kind == "eligibility":
        request = {
            "resourceType": "CoverageEligibilityRequest",
            "identifier": [{"system": "https://his.example.org/eligibility", "value": args["request_id"]}],
            "status": "active",
            "purpose": ["benefits"],
            "patient": {"reference": "urn:uuid:patient"},
            "created": now(),
            "insurer": {"reference": "urn:uuid:payer"},
            "provider": {"reference": "urn:uuid:provider"},
        }
        entries = [{"fullUrl": "urn:uuid:request", "resource": request}, patient_entry(args)] + organisations(args)
    elif kind == "preauth":
        entries = claim(args, "preauthorization")
    elif kind == "claim":
        entries = claim(args, "claim")
    elif kind == "communication":
        entries = [{
            "fullUrl": "urn:uuid:communication",
            "resource": {"resourceType": "Communication", "status": "completed", "payload": [{"contentString": args["text"]}]},
        }]
    elif kind == "paymentack":
        entries = [{
            "fullUrl": "urn:uuid:notice",
            "resource": {
                "resourceType": "PaymentNotice",
                "status": "active",
                "created": now(),
                "payment": {"display": "acknowledged"},
                "recipient": {"reference": "urn:uuid:provider"},
                "amount": {"value": args.get("rupees", 1), "currency": "INR"},
            },
        }] + organisations(args)[:1]
    else:
        raise SystemExit(f"unknown kind {kind}")
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": now(),
        "entry": entries,
    }
    Bundle.model_validate(bundle)
    return bundle


def mesh_key(mesh):
    with urllib.request.urlopen(mesh + "/nhcx/encryption-key.pem") as reply:
        return jwk.JWK.from_pem(reply.read())


def token(key, sender, lifetime=300):
    issued = int(time.time())
    made = jwt.JWT(header={"alg": "RS256"}, claims={"iss": sender, "iat": issued, "exp": issued + lifetime})
    made.make_signed_token(key)
    return made.serialize()


def send(options):
    args = json.loads(options.args)
    payload = json.dumps(args if options.kind == "raw" else bundle_of(options.kind, args))
    key = jwk.JWK.from_pem(open(options.key, "rb").read())
    headers = {
        "alg": options.alg,
        "enc": "A256GCM",
        "x-hcx-sender_code": options.sender,
        "x-hcx-recipient_code": options.recipient,
        "x-hcx-api_call_id": options.api_call_id or str(uuid.uuid4()),
        "x-hcx-correlation_id": options.correlation_id or str(uuid.uuid4()),
        "x-hcx-workflow_id": options.workflow_id or str(uuid.uuid4()),
        "x-hcx-timestamp": now(),
        "x-hcx-status": options.status,
    }
    for name in options.omit_header:
        headers.pop(name, None)
    sealed = jwe.JWE(payload.encode(), protected=json.dumps(headers), recipient=mesh_key(options.mesh))
    compact = sealed.serialize(compact=True)
    if options.tamper:
        parts = compact.split(".")
        parts[3] = parts[3][:-4] + ("AAAA" if parts[3][-4:] != "AAAA" else "BBBB")
        compact = ".".join(parts)
    request_headers = {"Content-Type": "application/json"}
    if options.token == "own":
        request_headers["Authorization"] = "Bearer " + token(key, options.sender)
    elif options.token == "forged":
        request_headers["Authorization"] = "Bearer " + token(jwk.JWK.generate(kty="RSA", size=2048), options.sender)
    request = urllib.request.Request(
        options.mesh + options.prefix + PATHS.get(options.kind, options.path or "/preauth/submit"),
        data=json.dumps({"payload": compact}).encode(),
        headers=request_headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as reply:
            status, body = reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        status, body = error.code, json.loads(error.read() or b"{}")
    print(json.dumps({
        "status": status,
        "body": body,
        "api_call_id": headers.get("x-hcx-api_call_id"),
        "correlation_id": headers.get("x-hcx-correlation_id"),
        "workflow_id": headers.get("x-hcx-workflow_id"),
    }))


def receive(options):
    key = jwk.JWK.from_pem(open(options.key, "rb").read())
    mesh = mesh_key(options.mesh)
    lock = threading.Lock()
    failures = {"left": options.fail_first}

    class Callbacks(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                if failures["left"] > 0:
                    failures["left"] -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
            record = {"path": self.path}
            try:
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                jwt.JWT(jwt=bearer, key=mesh, check_claims={"iss": options.mesh_code, "exp": None})
                record["token_ok"] = True
            except Exception as error:  # noqa: BLE001 - recorded for the test to see
                record["token_ok"] = False
                record["token_error"] = str(error)
            try:
                sealed = jwe.JWE()
                sealed.deserialize(json.loads(body)["payload"], key=key)
                record["headers"] = json.loads(sealed.objects["protected"])
                record["bundle"] = json.loads(sealed.payload)
                Bundle.model_validate(record["bundle"])
                record["valid"] = True
            except Exception as error:  # noqa: BLE001 - recorded for the test to see
                record["valid"] = False
                record["error"] = str(error)
            with lock, open(options.log, "a") as log:
                log.write(json.dumps(record) + "\n")
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"api_call_id": record.get("headers", {}).get("x-hcx-api_call_id")}).encode())

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", options.port), Callbacks)
    if options.port_file:
        with open(options.port_file, "w") as port_file:
            port_file.write(str(server.server_address[1]))
    print(f"callbacks on http://127.0.0.1:{server.server_address[1]}, logged to {options.log}", flush=True)
    server.serve_forever()


def keygen(options):
    key = jwk.JWK.generate(kty="RSA", size=2048)
    with open(f"{options.out}/hospital-key.pem", "wb") as private:
        private.write(key.export_to_pem(private_key=True, password=None))
    with open(f"{options.out}/hospital-public.pem", "wb") as public:
        public.write(key.export_to_pem())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("keygen")
    made.add_argument("--out", required=True)
    sender = commands.add_parser("send")
    sender.add_argument("kind", choices=[*PATHS, "raw"])
    sender.add_argument("--mesh", required=True)
    sender.add_argument("--prefix", default="/v0.7")
    sender.add_argument("--path", help="the path of a raw message")
    sender.add_argument("--sender", required=True)
    sender.add_argument("--recipient", required=True)
    sender.add_argument("--key", required=True)
    sender.add_argument("--args", default="{}")
    sender.add_argument("--alg", default="RSA-OAEP-256")
    sender.add_argument("--status", default="request.initiated")
    sender.add_argument("--api-call-id")
    sender.add_argument("--correlation-id")
    sender.add_argument("--workflow-id")
    sender.add_argument("--omit-header", action="append", default=[])
    sender.add_argument("--tamper", action="store_true", help="alter the ciphertext on the way")
    sender.add_argument("--token", choices=["own", "forged", "none"], default="own")
    receiver = commands.add_parser("receive")
    receiver.add_argument("--key", required=True)
    receiver.add_argument("--mesh", required=True)
    receiver.add_argument("--mesh-code", required=True)
    receiver.add_argument("--log", required=True)
    receiver.add_argument("--port", type=int, default=0)
    receiver.add_argument("--port-file")
    receiver.add_argument("--fail-first", type=int, default=0)
    options = parser.parse_args()
    {"keygen": keygen, "send": send, "receive": receive}[options.command](options)


if __name__ == "__main__":
    sys.exit(main())
