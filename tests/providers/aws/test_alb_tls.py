"""TLS on an Ingress's ALB: certificates imported to ACM from Secrets (rotated without a
new ALB, old ones deleted), or named by annotation (never imported, never deleted), and
the private key in no plan, repr, error or log line."""

from __future__ import annotations

import base64
import dataclasses
import logging

import pytest

from cloud_lb.model import TLSCert
from cloud_lb.provider import InvalidSpecError
from cloud_lb.testing.certs import self_signed
from providers.aws.naming import load_balancer_name
from tests.providers.aws.conftest import Harness
from tests.providers.aws.ingress import cafe, cert, ingress_ref

CERT_ARN = "alb.ingress.kubernetes.io/certificate-arn"


def acm_arns(aws: Harness) -> set[str]:
    summaries = aws.fake.client("acm").list_certificates()["CertificateSummaryList"]
    return {c["CertificateArn"] for c in summaries}


def https_certs(aws: Harness, lb_arn: str) -> tuple[str, set[str]]:
    """(default certificate ARN, the SNI ones) of the HTTPS listener."""
    li = next(
        x
        for x in aws.elb().describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
        if x["Protocol"] == "HTTPS"
    )
    listed = aws.elb().describe_listener_certificates(ListenerArn=li["ListenerArn"])
    extras = {c["CertificateArn"] for c in listed["Certificates"] if not c["IsDefault"]}
    return li["Certificates"][0]["CertificateArn"], extras


def test_a_rotated_secret_swaps_the_certificate_on_the_same_alb(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    spec = cafe(ref, aws.fake.backends(1), tls=(cert(),))
    provider.ensure(spec)
    lb_arn = aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    (old,) = acm_arns(aws)

    rotated = dataclasses.replace(spec, tls=(cert(),))  # same Secret, new content
    aws.recorder.reset()
    provider.ensure(rotated)

    (new,) = acm_arns(aws)  # the old certificate is gone from ACM
    assert new != old
    assert aws.lb(load_balancer_name(ref))["LoadBalancerArn"] == lb_arn
    assert https_certs(aws, lb_arn) == (new, set())
    # import the new one, swap it in, delete the old one
    assert aws.mutations() == {
        "acm:ImportCertificate": 1,
        "elbv2:ModifyListener": 1,
        "acm:DeleteCertificate": 1,
    }
    aws.recorder.reset()
    provider.ensure(rotated)
    assert aws.recorder.mutations() == 0


def test_more_secrets_become_sni_certificates_and_go_again(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    main = cert("cafe-tls", ())  # listed without hosts: the default certificate
    extra = cert("tea-tls", ("tea.example.com",))
    spec = cafe(ref, aws.fake.backends(1), tls=(extra, main))
    provider.ensure(spec)
    lb_arn = aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    default, sni = https_certs(aws, lb_arn)
    assert acm_arns(aws) == {default, *sni} and len(sni) == 1

    # the SNI Secret rotates: added next to the old one, the old one removed and deleted
    aws.recorder.reset()
    provider.ensure(dataclasses.replace(spec, tls=(cert("tea-tls", ("tea.example.com",)), main)))
    default2, sni2 = https_certs(aws, lb_arn)
    assert default2 == default and sni2 != sni and acm_arns(aws) == {default, *sni2}
    assert aws.mutations() == {
        "acm:ImportCertificate": 1,
        "elbv2:AddListenerCertificates": 1,
        "elbv2:RemoveListenerCertificates": 1,
        "acm:DeleteCertificate": 1,
    }

    # the SNI Secret leaves the Ingress
    provider.ensure(dataclasses.replace(spec, tls=(main,)))
    assert https_certs(aws, lb_arn) == (default, set())
    assert acm_arns(aws) == {default}


def test_without_tls_the_https_listener_and_certificate_go(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    spec = cafe(ref, aws.fake.backends(1), tls=(cert(),))
    provider.ensure(spec)
    plain = cafe(ref, spec.backends)
    provider.ensure(plain)
    lb = aws.lb(load_balancer_name(ref))
    ports = [
        li["Port"]
        for li in aws.elb().describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    ]
    assert ports == [80]
    assert acm_arns(aws) == set()
    frontend = [g for g in lb["SecurityGroups"] if aws.ingress(g)]
    assert [p["FromPort"] for g in frontend for p in aws.ingress(g)] == [80]


def test_annotated_certificates_are_used_and_never_deleted(aws: Harness) -> None:
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    cert_pem, key_pem = self_signed(["cafe.example.com"])
    users = aws.fake.client("acm").import_certificate(
        Certificate=cert_pem.encode(), PrivateKey=key_pem.encode()
    )["CertificateArn"]
    # Secrets first, then the annotation takes over: ours goes, theirs is used
    spec = cafe(ref, aws.fake.backends(1), tls=(cert(),))
    provider.ensure(spec)
    annotated = dataclasses.replace(spec, options=((CERT_ARN, users),))
    aws.recorder.reset()
    provider.ensure(annotated)
    lb_arn = aws.lb(load_balancer_name(ref))["LoadBalancerArn"]
    assert https_certs(aws, lb_arn) == (users, set())
    assert acm_arns(aws) == {users}
    assert "acm:ImportCertificate" not in aws.mutations()

    # the annotation alone asks for HTTPS (on 443), as in the aws-load-balancer-controller
    alone = cafe(ingress_ref(aws.cluster, "solo"), aws.fake.backends(1), options={CERT_ARN: users})
    status = provider.ensure(alone)
    assert status.listeners == ("HTTP/80", "HTTPS/443")

    provider.delete(ref)
    provider.delete(alone.ref)
    assert acm_arns(aws) == {users}


def test_an_unknown_annotated_certificate_is_the_users_error(aws: Harness) -> None:
    provider = aws.provider()
    missing = "arn:aws:acm:eu-west-3:123456789012:certificate/0000-1111"
    spec = cafe(ingress_ref(aws.cluster), aws.fake.backends(1), options={CERT_ARN: missing})
    with pytest.raises(InvalidSpecError) as err:
        provider.ensure(spec)
    assert err.value.field == CERT_ARN


def test_the_private_key_is_in_no_plan_repr_error_or_log(
    aws: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore's DEBUG lines print request parameters
    provider = aws.provider()
    ref = ingress_ref(aws.cluster)
    tls = cert()
    spec = cafe(ref, aws.fake.backends(1), tls=(tls,))
    pieces = _key_pieces(tls)
    assert not [p for p in pieces if p in repr(spec)]
    assert not [p for p in pieces for c in provider.plan(spec) if p in str(c)]
    provider.ensure(spec)

    # ACM refuses a key: the error names the Secret, never the key
    broken_key = "-----BEGIN PRIVATE KEY-----\nTm90QUtleUF0QWxsSnVzdFNvbWVCeXRlcw==\n-----END PRIVATE KEY-----\n"
    broken = TLSCert("broken-tls", (), tls.cert_pem, broken_key)
    with pytest.raises(InvalidSpecError) as err:
        provider.ensure(dataclasses.replace(spec, tls=(broken,)))
    assert "broken-tls" in str(err.value)
    assert "Tm90QUtleU" not in str(err.value) and err.value.__cause__ is None

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ImportCertificate" in logged  # botocore did log the calls...
    assert not [p for p in pieces if p in logged]  # ...without the keys
    assert "Tm90QUtleU" not in logged and "VG05MFFVdGxlVU" not in logged


def _key_pieces(tls: TLSCert) -> list[str]:
    """Pieces of the key as a log line could hold them: its PEM body, and the base64 of
    the PEM that ACM's JSON request carries (a slice aligned on whole 3-byte groups)."""
    lines = [x for x in tls.key_pem.splitlines() if x and not x.startswith("-----")]
    return [lines[0][8:40], base64.b64encode(tls.key_pem.encode()).decode()[60:100]]
