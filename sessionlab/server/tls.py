"""Local TLS for 127.0.0.1: a certificate authority and a server certificate, made on the fly.

``requests`` sends ``Secure`` cookies only over HTTPS, never over http, even to 127.0.0.1
(Chromium does send them to http://127.0.0.1 and localhost, which it counts as secure; to no
other http site), so the hardened profile is served over TLS. Rather than turn certificate
checks off, the lab makes its own little CA, signs a certificate for the IP 127.0.0.1 with it,
and hands the CA's path to the client: ``sl.Client(lab.url, verify=lab.ca_path)``. The certificates
live in a private temporary directory that is removed at exit. The private key never stays on
disk: it is kept in memory and written to a 0600 file only for the moment the server's SSL
context reads it, so a process killed with SIGTERM or SIGKILL leaves no key behind.

Both certificates live 30 days and are made again, for servers started after that, once
fewer than 7 days are left: a notebook kernel can stay up for weeks, and a server must
never start with a certificate that expires while it runs (it loads it once, at start).
"""

from __future__ import annotations

import atexit
import datetime
import ipaddress
import secrets
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .processes import write_private

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
VALIDITY = datetime.timedelta(days=30)
RENEW_BEFORE = datetime.timedelta(days=7)  # a server started now keeps a valid one this long

_current: tuple[LocalTLS, datetime.datetime] | None = None  # and when its certificate expires
_lock = threading.Lock()


@dataclass(frozen=True)
class LocalTLS:
    """Paths of the CA certificate (give it to clients) and of the server's certificate; the
    server's private key, in memory only."""

    ca_path: Path
    cert_path: Path
    key_pem: bytes = field(repr=False)

    def server_context(self) -> ssl.SSLContext:
        """An SSL context for the server side, serving the 127.0.0.1 certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        key_path = self.cert_path.with_name(f"key-{secrets.token_hex(8)}.pem")
        write_private(key_path, self.key_pem)
        try:
            context.load_cert_chain(self.cert_path, key_path)
        finally:
            key_path.unlink()  # read: the key lives on in memory only
        return context


def local_tls(now: datetime.datetime | None = None) -> LocalTLS:
    """This process's CA and 127.0.0.1 certificate: made on first use, made again near expiry.

    >>> tls = local_tls()
    >>> tls.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    True
    >>> local_tls() is tls
    True
    """
    global _current
    now = now or datetime.datetime.now(datetime.UTC)
    with _lock:
        if _current is None or _current[1] - now < RENEW_BEFORE:
            _current = _make_local_tls()
        return _current[0]


def _make_local_tls() -> tuple[LocalTLS, datetime.datetime]:
    """A new CA and server certificate in a new directory, and when the certificate expires."""
    directory = Path(tempfile.mkdtemp(prefix="sessionlab-tls-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _ca_certificate(ca_key)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _server_certificate(key, ca_key, ca_cert)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tls = LocalTLS(directory / "ca.pem", directory / "cert.pem", key_pem)
    tls.ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    tls.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return tls, cert.not_valid_after_utc


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _ca_certificate(ca_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sessionlab local CA")])
    return (
        _builder(name, name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(LOOPBACK))])
    return (
        _builder(name, ca.subject, key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(LOOPBACK)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
