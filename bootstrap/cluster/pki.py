"""The cluster's certificates and keys, made once and kept.

Two certificate authorities: one for the cluster (apiserver, kubelet, users, components) and one
for etcd only, so that no certificate a user or a node holds can open etcd. Service accounts are
signed with their own key pair. Existing files are never replaced: ``up`` after ``down`` keeps the
same identities, so kubeconfigs and tokens already handed out stay valid.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bootstrap.cluster.layout import CLUSTER_DOMAIN, NODE_NAME, ClusterLayout, ClusterNetwork

_VALIDITY = datetime.timedelta(days=3650)
SERVER_USAGE = ExtendedKeyUsageOID.SERVER_AUTH
_CLIENT = ExtendedKeyUsageOID.CLIENT_AUTH


@dataclass(frozen=True)
class CertSpec:
    """One leaf certificate: its file stem, subject, usages and alternative names."""

    stem: str
    common_name: str
    organizations: tuple[str, ...] = ()
    usages: tuple[x509.ObjectIdentifier, ...] = (_CLIENT,)
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    authority: str = "ca"


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class ClusterPki:
    """Paths of every certificate and key the components are started with."""

    root: Path

    @property
    def ca(self) -> Pair:
        return Pair(self.root / "ca.crt", self.root / "ca.key")

    @property
    def etcd_ca(self) -> Pair:
        return Pair(self.root / "etcd-ca.crt", self.root / "etcd-ca.key")

    @property
    def service_account_key(self) -> Path:
        return self.root / "sa.key"

    @property
    def service_account_public(self) -> Path:
        return self.root / "sa.pub"

    def pair(self, stem: str) -> Pair:
        return Pair(self.root / f"{stem}.crt", self.root / f"{stem}.key")


def certificate_specs(network: ClusterNetwork) -> tuple[CertSpec, ...]:
    """Every leaf certificate the cluster needs (pure)."""
    node_ip = str(network.node_ip)
    service_names = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
        "localhost",
    ]
    return (
        CertSpec(
            "apiserver",
            "kube-apiserver",
            usages=(SERVER_USAGE,),
            dns_names=(*service_names, NODE_NAME),
            ip_addresses=(node_ip, "127.0.0.1", str(network.kubernetes_service_ip)),
        ),
        CertSpec("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",)),
        CertSpec("apiserver-etcd-client", "kube-apiserver-etcd-client", authority="etcd-ca"),
        CertSpec(
            "etcd-server",
            "etcd",
            usages=(SERVER_USAGE, _CLIENT),
            dns_names=("localhost",),
            ip_addresses=("127.0.0.1",),
            authority="etcd-ca",
        ),
        CertSpec("etcd-healthcheck-client", "etcd-healthcheck", authority="etcd-ca"),
        CertSpec("admin", "airkube-admin", ("system:masters",)),
        CertSpec("controller-manager", "system:kube-controller-manager"),
        CertSpec("scheduler", "system:kube-scheduler"),
        CertSpec("kube-proxy", "system:kube-proxy"),
        CertSpec("kubelet-client", f"system:node:{NODE_NAME}", ("system:nodes",)),
        CertSpec(
            "kubelet-server",
            NODE_NAME,
            usages=(SERVER_USAGE,),
            dns_names=(NODE_NAME, "localhost"),
            ip_addresses=(node_ip, "127.0.0.1"),
        ),
        CertSpec("coredns", "airkube:coredns"),
        CertSpec("storage-provisioner", "airkube:storage-provisioner"),
        CertSpec("network-policies", "airkube:network-policies"),
    )


def ensure_pki(layout: ClusterLayout, network: ClusterNetwork) -> ClusterPki:
    """Create whatever certificates and keys are missing; keep the ones that exist."""
    pki = ClusterPki(layout.pki)
    pki.root.mkdir(parents=True, exist_ok=True)
    pki.root.chmod(0o700)
    authorities = {
        "ca": ensure_authority(pki.ca, "airkube-ca"),
        "etcd-ca": ensure_authority(pki.etcd_ca, "airkube-etcd-ca"),
    }
    for spec in certificate_specs(network):
        pair = pki.pair(spec.stem)
        if pair.cert.is_file() and pair.key.is_file():
            continue
        ca_cert, ca_key = authorities[spec.authority]
        issue_leaf(pair, spec, ca_cert, ca_key)
    if not pki.service_account_key.is_file():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_key(pki.service_account_key, key)
        pki.service_account_public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return pki


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def ensure_authority(
    pair: Pair, common_name: str
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    if pair.cert.is_file() and pair.key.is_file():
        cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
        key = serialization.load_pem_private_key(pair.key.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cert, key
    key = _new_key()
    subject = _name(common_name)
    cert = (
        _builder(subject, subject, key.public_key(), ca=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(pair.key, key)
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, *, ca: bool
) -> x509.CertificateBuilder:
    """What every certificate here shares: validity (backdated a little for clock skew), and a CA
    signs certificates while a leaf signs only its handshakes."""
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


def issue_leaf(
    pair: Pair, spec: CertSpec, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> None:
    key = _new_key()
    subject = _name(spec.common_name, spec.organizations)
    builder = (
        _builder(subject, ca_cert.subject, key.public_key(), ca=False)
        .add_extension(x509.ExtendedKeyUsage(list(spec.usages)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in spec.dns_names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in spec.ip_addresses]
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(pair.key, key)
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
