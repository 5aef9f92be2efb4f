"""ACM certificates imported from an Ingress's TLS Secrets: import and delete.

A certificate is imported once per Secret content (its `TLSCert.fingerprint`, kept in a
tag next to the ownership tags), so a rotated Secret is a new import; the old one is
deleted once no listener uses it. Certificates named by the `certificate-arn`
annotation are never imported nor deleted: they lack our tags.

Secrets: the private key goes to ACM in one call and nowhere else. Errors of that call
are rebuilt from the AWS error code and message only (the SDK's own message for a
parameter problem may quote the parameters), raised `from None`, and botocore's DEBUG
line that prints a request's parameters is redacted for ImportCertificate.
"""

from __future__ import annotations

import logging

from botocore.exceptions import ClientError

from cloud_lb.provider import InvalidSpecError, PendingError
from providers.aws.alb_state import DesiredCertificate
from providers.aws.clients import AWSCallError, AWSClients
from providers.aws.naming import tags_list

log = logging.getLogger(__name__)

# ACM's answers to a certificate or key it cannot use: the Secret's author must fix it
USER_ERRORS = frozenset(
    {"ValidationException", "InvalidParameterException", "InvalidArgsException"}
)
IN_USE = "ResourceInUseException"
NOT_FOUND = "ResourceNotFoundException"


class _RedactImport(logging.Filter):
    """botocore.endpoint logs `Making request for <op> with params: {...}` at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            str(record.msg).startswith("Making request for")
            and isinstance(args, tuple)
            and len(args) == 2
            and "ImportCertificate" in str(args[0])
        ):
            record.args = (args[0], "<redacted: certificate import>")
        return True


logging.getLogger("botocore.endpoint").addFilter(_RedactImport())


def import_certificate(clients: AWSClients, cert: DesiredCertificate, *, ingress: str) -> str:
    """Import one certificate into ACM with its tags; returns its ARN."""
    params: dict[str, object] = {
        "Certificate": cert.certificate.encode(),
        "PrivateKey": cert.private_key.encode(),
        "Tags": tags_list(dict(cert.tags)),
    }
    if cert.chain:
        params["CertificateChain"] = cert.chain.encode()
    try:
        arn = str(clients.call("acm", "import_certificate", **params)["CertificateArn"])
    except AWSCallError as exc:
        message = _safe_message(exc)
        if exc.code in USER_ERRORS:
            raise InvalidSpecError(
                f"TLS Secret {cert.secret}: ACM does not accept its certificate and key "
                f"({message})",
                field="spec.tls.secretName",
            ) from None
        raise AWSCallError(
            f"acm:ImportCertificate failed for TLS Secret {cert.secret}: {message}",
            operation=exc.operation,
            code=exc.code,
            retryable=exc.retryable,
        ) from None
    log.info(
        "event=certificate_imported ingress=%s secret=%s fingerprint=%s arn=%s",
        ingress,
        cert.secret,
        cert.fingerprint,
        arn,
    )
    return arn


def delete_certificate(clients: AWSClients, arn: str, *, ingress: str, wait: bool) -> bool:
    """Delete one of our certificates. ACM refuses while a load balancer still uses it
    (it lags a little behind the listener change): with `wait` that is a PendingError
    (deletion must finish), else it is left for the next reconcile. True if deleted."""
    try:
        clients.call("acm", "delete_certificate", CertificateArn=arn)
    except AWSCallError as exc:
        if exc.code == NOT_FOUND:
            return True
        if exc.code != IN_USE:
            raise
        if wait:
            raise PendingError(
                f"certificate {arn} is still in use by a load balancer; retrying", retry_after=10
            ) from exc
        log.warning("event=certificate_delete_deferred ingress=%s arn=%s", ingress, arn)
        return False
    log.info("event=certificate_deleted ingress=%s arn=%s", ingress, arn)
    return True


def _safe_message(exc: AWSCallError) -> str:
    """`code: message` of an error AWS answered; only the code for an SDK-side error
    (parameter validation, connection), whose message may quote the parameters."""
    cause = exc.__cause__
    if isinstance(cause, ClientError):
        error = cause.response.get("Error", {})
        return f"{exc.code}: {str(error.get('Message', ''))[:300]}"
    return exc.code
