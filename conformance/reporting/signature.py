"""Ed25519 signatures of certificates: who vouches for a certificate, checkable by anyone.

A certificate's ``sha256`` is a content fingerprint: it finds an accidental change, but anyone
who edits the file can recompute it, so it proves nothing against a forger. A signature does:
it is made with a private key only its holder has, and checked with the public key the holder
hands out (``openmedia-conformance certificate verify --public-key PUB``). Keys are PEM files
(PKCS#8 private key, unencrypted and readable by its owner only; SubjectPublicKeyInfo public
key), made by ``certificate keygen``. A key is known by the sha256 of its raw public bytes, so a
certificate names the key that signed it without carrying it, and a check against another key
says so instead of only "invalid".

The private key is read into a ``SigningKey`` whose representation shows its path only: it never
reaches a console, a report or a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"


class KeyFileError(ValueError):
    """A key file that cannot be used: missing, unreadable, not an Ed25519 PEM key, or taken."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's name in a certificate: sha256 of its 32 raw public bytes, hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    """A private key read from ``path`` (its representation never shows the key)."""

    path: Path
    key: Ed25519PrivateKey = field(repr=False)

    @property
    def key_id(self) -> str:
        return key_id(self.key.public_key())

    def sign(self, data: bytes) -> dict[str, str]:
        """The signature record a certificate carries: algorithm, key id, base64 signature."""
        return {
            "algorithm": ALGORITHM,
            "key_sha256": self.key_id,
            "value": base64.b64encode(self.key.sign(data)).decode("ascii"),
        }


def generate_key_pair(private_path: Path, public_path: Path) -> str:
    """Write a new key pair (private: mode 600); never overwrite a file. Returns the key id."""
    if private_path.resolve() == public_path.resolve():
        raise KeyFileError(f"the private and the public key cannot both be {private_path}")
    for path in (private_path, public_path):
        if path.exists():
            raise KeyFileError(
                f"{path} exists: keygen never overwrites a key (a lost private key cannot be "
                "recovered, and certificates signed with it would no longer verify); choose "
                "another path"
            )
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except KeyFileError:
        private_path.unlink()
        raise
    return key_id(key.public_key())


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyFileError(f"{path} exists: keygen never overwrites a key") from None
    except OSError as exc:
        raise KeyFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def load_signing_key(path: str | Path) -> SigningKey:
    """The private key of ``path`` (PEM, unencrypted Ed25519), or a ``KeyFileError`` saying why."""
    path = Path(path)
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(
            f"{path} is encrypted with a passphrase; use an unencrypted key, readable by you "
            "only (openmedia-conformance certificate keygen writes one)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path} is not a PEM private key{_hint(data)}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is a private key, but not an {ALGORITHM} one{_keygen()}")
    return SigningKey(path, key)


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """The public key of ``path`` (PEM), or a ``KeyFileError`` saying why."""
    path = Path(path)
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path} is not a PEM public key{_hint(data)}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} is a public key, but not an {ALGORITHM} one{_keygen()}")
    return key


def _hint(data: bytes) -> str:
    if b"PRIVATE KEY" in data:
        return " (it holds a private key: give the public one, which keygen wrote beside it)"
    return _keygen()


def _keygen() -> str:
    return " (openmedia-conformance certificate keygen makes a key pair)"


def check(public_key: Ed25519PublicKey, data: bytes, record: Mapping[str, Any]) -> str | None:
    """``None`` when ``record`` is ``public_key``'s signature of ``data``; else what is wrong."""
    if record.get("algorithm") != ALGORITHM:
        return f"signed with {record.get('algorithm')!r}, not {ALGORITHM}"
    expected = key_id(public_key)
    if record.get("key_sha256") != expected:
        return (
            f"signed by another key (key sha256 {record.get('key_sha256')}), not by the public "
            f"key given (key sha256 {expected})"
        )
    try:
        public_key.verify(base64.b64decode(str(record.get("value", "")), validate=True), data)
    except (InvalidSignature, ValueError):
        return "the signature does not match the content: it was altered after it was signed"
    return None
