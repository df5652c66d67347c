"""Cost of the gateway adapters' cryptography, in process (no database, no
network): verifying an Alipay notification (RSA2), verifying and decrypting a
WeChat Pay notification (RSA-SHA256 + AES-256-GCM), and signing one request
of each (2048-bit keys, as the providers issue).

    python bench/gateways.py [--n 2000]

Prints one line: microseconds per operation for each.
"""

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopyard.settings")
os.environ.setdefault("SHOPYARD_HOME", tempfile.mkdtemp(prefix="shopyard-bench-"))

import django  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402


def pem_files(folder: Path, name: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = folder / f"{name}.key", folder / f"{name}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return key, str(private), str(public)


def per_op(fn, n) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    django.setup()
    from django.conf import settings

    from shopyard.payments.gateways import alipay, wechatpay

    folder = Path(tempfile.mkdtemp(prefix="shopyard-bench-keys-"))
    _m, merchant_private, _mp = pem_files(folder, "merchant")
    provider, _pp, provider_public = pem_files(folder, "provider")
    settings.ALIPAY_APP_ID, settings.ALIPAY_PRIVATE_KEY_PATH = "2021000000000001", merchant_private
    settings.ALIPAY_PUBLIC_KEY_PATH = provider_public
    settings.WECHATPAY_MCH_ID, settings.WECHATPAY_APPID, settings.WECHATPAY_SERIAL_NO = "1900000109", "wx1", "ABC"
    settings.WECHATPAY_PRIVATE_KEY_PATH, settings.WECHATPAY_APIV3_KEY = merchant_private, "0123456789abcdefABCDEF0123456789"
    settings.WECHATPAY_PUBLIC_KEY_PATH, settings.WECHATPAY_PUBLIC_KEY_ID = provider_public, "PUB_KEY_ID_1"

    def sign(message: bytes) -> str:
        return base64.b64encode(provider.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()

    form = {"app_id": "2021000000000001", "out_trade_no": "PAY1", "trade_no": "2026", "trade_status": "TRADE_SUCCESS",
            "total_amount": "173.30", "notify_id": "n1", "sign_type": "RSA2", "charset": "utf-8", "version": "1.0"}
    form["sign"] = sign(alipay.signing_string(form, exclude=("sign", "sign_type"), skip_empty=False))
    ali_body = urlencode(form).encode()
    ali = alipay.Alipay()

    resource = {"mchid": "1900000109", "appid": "wx1", "out_trade_no": "PAY1", "transaction_id": "42",
                "trade_state": "SUCCESS", "amount": {"total": 17330, "currency": "CNY"}}
    ct = AESGCM(settings.WECHATPAY_APIV3_KEY.encode()).encrypt(b"nonce1234567", json.dumps(resource).encode(), b"transaction")
    wx_body = json.dumps({"event_type": "TRANSACTION.SUCCESS", "resource": {
        "algorithm": "AEAD_AES_256_GCM", "nonce": "nonce1234567", "associated_data": "transaction",
        "ciphertext": base64.b64encode(ct).decode()}})
    now = int(time.time())
    wx_headers = {"Wechatpay-Timestamp": str(now), "Wechatpay-Nonce": "abc", "Wechatpay-Serial": "PUB_KEY_ID_1",
                  "Wechatpay-Signature": sign(f"{now}\nabc\n{wx_body}\n".encode())}
    wx = wechatpay.WechatPay()

    assert ali.verify(ali_body, {}, received_at=now)["status"] == "success"
    assert wx.verify(wx_body.encode(), wx_headers, received_at=now)["status"] == "success"
    figures = {
        "alipay_notify_verify_us": per_op(lambda: ali.verify(ali_body, {}, received_at=now), args.n),
        "wechatpay_notify_verify_decrypt_us": per_op(lambda: wx.verify(wx_body.encode(), wx_headers, received_at=now), args.n),
        "alipay_request_sign_us": per_op(lambda: ali.signed_params("alipay.trade.query", {"out_trade_no": "PAY1"}), args.n),
        "wechatpay_request_sign_us": per_op(lambda: wx.authorization("GET", "/v3/pay/transactions/out-trade-no/PAY1", ""), args.n),
    }
    print(f"gateways n={args.n} " + " ".join(f"{k}={v:.0f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
