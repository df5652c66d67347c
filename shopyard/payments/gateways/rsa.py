"""RSA-SHA256 (PKCS#1 v1.5) signatures and key loading, shared by the
Alipay (RSA2) and WeChat Pay (WECHATPAY2-SHA256-RSA2048) adapters.
Keys are read from the PEM files the settings name, once per file version."""

import base64
import binascii
import functools
import os

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime: float, kind: str):
    with open(path, "rb") as fh:
        data = fh.read()
    if kind == "private":
        return serialization.load_pem_private_key(data, password=None)
    if kind == "certificate":
        return x509.load_pem_x509_certificate(data)
    return serialization.load_pem_public_key(data)


def load(path: str, kind: str):
    """The key (or certificate) in the PEM file at `path`; kind is
    "private", "public" or "certificate"."""
    return _load(path, os.stat(path).st_mtime, kind)


def readable(path: str, kind: str) -> bool:
    """Whether the file loads as that kind of key (for the operator page, which never shows keys)."""
    try:
        load(path, kind)
    except (OSError, ValueError, TypeError):
        return False
    return True


def sign(private_key, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(public_key, message: bytes, signature: str) -> bool:
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public_key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
