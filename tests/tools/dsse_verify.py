#!/usr/bin/env python3
"""An independent DSSE v1 verifier: checks ecluse's envelopes without ecluse's code.

Usage: dsse_verify.py ENVELOPE PUBLIC_KEY_PEM

Parses the JSON envelope itself (secure-systems-lab/dsse envelope.md), recomputes
PAE(payloadType, payload) itself (protocol.md "Signature Definition") and verifies every
signature with `openssl pkeyutl` under the scheme of the key's type (detected from
`openssl pkey -pubin -text -noout`): Ed25519, ECDSA P-256 with SHA-256, RSA-PSS with SHA-256,
MGF1-SHA-256 and a 32-byte salt. Python standard library and the openssl command only.

Prints the payloadType and payload size, then "OK <n> signatures" and exits 0 when every
signature verifies; exits 1 when one does not, 2 when the input is malformed.
"""

import base64
import binascii
import json
import os
import subprocess
import sys
import tempfile

SCHEME_ARGS = {
    "ed25519": ["-rawin"],
    "ecdsa-p256": ["-rawin", "-digest", "sha256"],
    "rsa-pss": [
        "-rawin", "-digest", "sha256",
        "-pkeyopt", "rsa_padding_mode:pss",
        "-pkeyopt", "rsa_pss_saltlen:32",
        "-pkeyopt", "rsa_mgf1_md:sha256",
    ],
}


class Malformed(Exception):
    pass


def pae(payload_type: bytes, body: bytes) -> bytes:
    """DSSEv1 SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes, ASCII decimal."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (envelope.md); nothing else."""
    s = text.replace("-", "+").replace("_", "/")
    if "=" not in s:
        s += "=" * (-len(s) % 4)
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Malformed(f"not base64: {e}") from e


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise Malformed("an object repeats a key")
    return dict(pairs)


def load_envelope(path: str):
    with open(path, "rb") as f:
        doc = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates)
    if not isinstance(doc, dict):
        raise Malformed("not a JSON object")
    ptype, payload, sigs = doc.get("payloadType"), doc.get("payload"), doc.get("signatures")
    if not isinstance(ptype, str) or not isinstance(payload, str):
        raise Malformed("payloadType or payload missing or not a string")
    if not isinstance(sigs, list) or not sigs:
        raise Malformed("signatures missing, not an array or empty")
    decoded = []
    for s in sigs:
        if not isinstance(s, dict) or not isinstance(s.get("sig"), str):
            raise Malformed("a signature has no string sig")
        decoded.append(b64decode(s["sig"]))
    return ptype, b64decode(payload), decoded


def key_scheme(key_path: str) -> str:
    out = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", key_path, "-text", "-noout"],
        capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise Malformed("openssl cannot read the public key: " + out.stderr.strip())
    text = out.stdout
    if text.startswith("ED25519 Public-Key"):
        return "ed25519"
    if "NIST CURVE: P-256" in text or "ASN1 OID: prime256v1" in text:
        return "ecdsa-p256"
    if text.startswith("Public-Key: (") and "Modulus:" in text:
        return "rsa-pss"
    raise Malformed("unsupported key type: " + text.splitlines()[0])


def verify_one(key_path: str, scheme: str, message_path: str, sig: bytes, tmp: str) -> bool:
    sig_path = os.path.join(tmp, "sig")
    with open(sig_path, "wb") as f:
        f.write(sig)
    cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", key_path,
           *SCHEME_ARGS[scheme], "-in", message_path, "-sigfile", sig_path]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


def main(argv) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        ptype, payload, sigs = load_envelope(argv[1])
        scheme = key_scheme(argv[2])
    except (Malformed, ValueError, OSError) as e:
        print(f"malformed: {e}", file=sys.stderr)
        return 2
    print("payloadType", json.dumps(ptype))
    print("payload", len(payload), "bytes")
    with tempfile.TemporaryDirectory() as tmp:
        message_path = os.path.join(tmp, "pae")
        with open(message_path, "wb") as f:
            f.write(pae(ptype.encode("utf-8"), payload))
        failed = [i for i, s in enumerate(sigs)
                  if not verify_one(argv[2], scheme, message_path, s, tmp)]
    if failed:
        print(f"FAIL signatures {failed} of {len(sigs)} do not verify ({scheme})")
        return 1
    print(f"OK {len(sigs)} signatures")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
