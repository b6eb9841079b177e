"""A throw-away self-signed certificate for 127.0.0.1, made at run time, never committed."""
from __future__ import annotations

import datetime as dt
import shutil
import ssl
import subprocess
from pathlib import Path


def self_signed(directory: Path) -> tuple[Path, Path]:
    """Write cert.pem and key.pem for 127.0.0.1 into `directory`: with the `cryptography`
    package (the bench extra) when importable, else with the `openssl` command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        _with_cryptography(cert, key)
    except ImportError:
        _with_openssl(cert, key)
    return cert, key


def client_context(cafile: Path) -> ssl.SSLContext:
    """What a client uses to trust the stand-in: the system defaults plus our certificate."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile)
    return context


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _with_cryptography(cert: Path, key: Path) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    # P-256, as most public sites serve today: the handshake costs what production's costs.
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


def _with_openssl(cert: Path, key: Path) -> None:
    if shutil.which("openssl") is None:
        raise RuntimeError("the HTTPS variant needs the `cryptography` package "
                           "(pip install -e '.[bench]') or the openssl command")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
