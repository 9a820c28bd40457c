"""gRPC over TLS: the server's certificate and key, the clients' CA, and the
plaintext health port the kubelet's probes use.

A CA and server certificates are made here with `cryptography`, so every run
uses fresh keys and nothing secret lives in the repository.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import ipaddress
import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kit import grpc_client, grpc_server
from kit.settings import GrpcTls, Settings, SettingsError
from liaison.registry.v1 import registry_pb2, registry_pb2_grpc

SERVICE = registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name


class Streets(registry_pb2_grpc.RegistryServiceServicer):
    def GetStreet(self, request: registry_pb2.GetRequest, context: object) -> registry_pb2.Street:
        return registry_pb2.Street(id=request.id, code="linhe", name="林和街道", active=True)


@dataclasses.dataclass
class Authority:
    """A CA that signs server certificates for localhost."""

    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(name, key, certificate)

    def write_ca(self, path: Path) -> Path:
        path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def issue(self, cert_path: Path, key_path: Path, host: str = "localhost") -> None:
        """A server certificate for `host` and 127.0.0.1, written as PEM files."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _settings(tls: GrpcTls, **overrides: object) -> Settings:
    return dataclasses.replace(Settings.load("registry", "api"), grpc_tls=tls, **overrides)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A started TLS server on localhost, its CA, and the files it serves from."""
    authority = Authority.create("liaison test CA")
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    authority.issue(cert, key)
    ca = authority.write_ca(tmp_path / "ca.crt")
    server_tls = GrpcTls(cert_file=str(cert), key_file=str(key))
    server, health = grpc_server.build_server(
        _settings(server_tls),
        register=lambda s: registry_pb2_grpc.add_RegistryServiceServicer_to_server(Streets(), s),
        service_names=[SERVICE],
        readiness=lambda: True,
        readiness_interval=0.05,
    )
    port = grpc_server.add_port(server, "127.0.0.1:0", server_tls)
    server.start()
    yield SimpleNamespace(
        target=f"localhost:{port}",
        authority=authority,
        ca=ca,
        cert=cert,
        key=key,
        health=health,
        tmp_path=tmp_path,
    )
    health.stop()
    server.stop(0).wait()


def _get_street(channel: grpc.Channel) -> int:
    stub = registry_pb2_grpc.RegistryServiceStub(channel)
    return int(stub.GetStreet(registry_pb2.GetRequest(id=3), timeout=3).id)


def _refusal(target: str, settings: Settings) -> grpc.StatusCode:
    """The status of a call that must fail."""
    with grpc_client.channel(target, settings) as channel:
        try:
            _get_street(channel)
        except grpc.RpcError as error:
            return error.code()
    raise AssertionError(f"the call to {target} succeeded")


def test_a_client_with_the_ca_calls_a_tls_server(tls_server: SimpleNamespace) -> None:
    settings = _settings(GrpcTls(ca_file=str(tls_server.ca)))
    with grpc_client.channel(tls_server.target, settings) as channel:
        assert _get_street(channel) == 3


def test_the_aio_channel_speaks_tls_too(tls_server: SimpleNamespace) -> None:
    async def run() -> int:
        settings = _settings(GrpcTls(ca_file=str(tls_server.ca)))
        async with grpc_client.aio_channel(tls_server.target, settings) as channel:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            street = await stub.GetStreet(registry_pb2.GetRequest(id=4), timeout=3)
            return int(street.id)

    assert asyncio.run(run()) == 4


def test_channels_read_the_ca_from_the_environment_without_settings(
    tls_server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gateway builds its channels without a kit Settings object.
    monkeypatch.setenv("LIAISON_GRPC_TLS_CA_FILE", str(tls_server.ca))
    with grpc_client.channel(tls_server.target) as channel:
        assert _get_street(channel) == 3

    async def run() -> int:
        async with grpc_client.aio_channel(tls_server.target) as channel:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            return int((await stub.GetStreet(registry_pb2.GetRequest(id=5), timeout=3)).id)

    assert asyncio.run(run()) == 5


def test_a_plaintext_client_is_refused(tls_server: SimpleNamespace) -> None:
    assert _refusal(tls_server.target, _settings(GrpcTls())) == grpc.StatusCode.UNAVAILABLE


def test_a_server_signed_by_another_ca_is_refused(tls_server: SimpleNamespace) -> None:
    stranger = Authority.create("someone else's CA").write_ca(tls_server.tmp_path / "other.crt")
    settings = _settings(GrpcTls(ca_file=str(stranger)))
    assert _refusal(tls_server.target, settings) == grpc.StatusCode.UNAVAILABLE


def test_a_renewed_certificate_is_served_without_a_restart(tls_server: SimpleNamespace) -> None:
    # The certificate is renewed by a new CA: clients trusting only the new
    # CA fail before the renewal and succeed after it, on a new connection.
    renewed_by = Authority.create("renewing CA")
    new_ca = renewed_by.write_ca(tls_server.tmp_path / "new-ca.crt")
    settings = _settings(GrpcTls(ca_file=str(new_ca)))
    assert _refusal(tls_server.target, settings) == grpc.StatusCode.UNAVAILABLE

    staged = tls_server.tmp_path / "staged"
    staged.mkdir()
    renewed_by.issue(staged / "tls.crt", staged / "tls.key")
    # Distinct modification times even on a coarse clock.
    later = time.time() + 5
    for name in ("tls.crt", "tls.key"):
        os.utime(staged / name, (later, later))
        os.replace(staged / name, tls_server.tmp_path / name)

    with grpc_client.channel(tls_server.target, settings) as channel:
        assert _get_street(channel) == 3


def test_health_is_served_in_plaintext_on_its_own_port(tls_server: SimpleNamespace) -> None:
    health_server, port = grpc_server.serve_health(tls_server.health, "127.0.0.1:0")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            check = health_pb2.HealthCheckRequest(service=grpc_server.LIVENESS_SERVICE)
            assert stub.Check(check, timeout=2).status == health_pb2.HealthCheckResponse.SERVING
            # Nothing but health answers there.
            with pytest.raises(grpc.RpcError) as caught:
                _get_street(channel)
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        health_server.stop(0).wait()


def test_a_certificate_without_its_key_names_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIAISON_GRPC_TLS_CERT_FILE", "/etc/liaison/grpc-tls/tls.crt")
    monkeypatch.delenv("LIAISON_GRPC_TLS_KEY_FILE", raising=False)
    with pytest.raises(SettingsError, match="LIAISON_GRPC_TLS_KEY_FILE is empty"):
        Settings.load("registry", "api")


def test_a_missing_ca_file_names_the_variable_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ca.crt"
    settings = _settings(GrpcTls(ca_file=str(missing)))
    with pytest.raises(SettingsError, match=f"LIAISON_GRPC_TLS_CA_FILE={missing}"):
        grpc_client.channel("localhost:1", settings)
