"""The cluster PKI, generated for real in a temporary folder: every certificate chains to its
authority, authorities may sign and leaves may not, and a second run keeps what exists."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from bootstrap.cluster.layout import ClusterLayout, ClusterNetwork
from bootstrap.cluster.pki import certificate_specs, ensure_pki


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_every_leaf_should_chain_to_its_authority(tmp_path: Path) -> None:
    network = ClusterNetwork()
    pki = ensure_pki(ClusterLayout(root=tmp_path), network)
    authorities = {"ca": load(pki.ca.cert), "etcd-ca": load(pki.etcd_ca.cert)}
    for authority in authorities.values():
        assert authority.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert authority.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    for spec in certificate_specs(network):
        leaf = load(pki.pair(spec.stem).cert)
        issuer = authorities[spec.authority]
        leaf.verify_directly_issued_by(issuer)
        assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, (
            spec.stem
        )
        assert not leaf.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign, (
            spec.stem
        )
        assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)


def test_a_second_run_should_keep_the_certificates(tmp_path: Path) -> None:
    layout = ClusterLayout(root=tmp_path)
    first = ensure_pki(layout, ClusterNetwork())
    before = first.ca.cert.read_bytes()
    second = ensure_pki(layout, ClusterNetwork())
    assert second.ca.cert.read_bytes() == before
