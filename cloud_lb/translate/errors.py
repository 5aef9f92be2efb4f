"""The one error type of translation: bad user input, named by its field.

Everything `translate` rejects raises `TranslationError`. The controller turns it into
an `InvalidLoadBalancerSpec` event on the object and makes no cloud call, so the
message is written for the Service's author: it names the field (`.field`, a JSON-ish
path such as ``spec.loadBalancerSourceRanges[1]`` or
``metadata.annotations[cloud-lb.io/internal]``) and says what to do about it.
"""

from __future__ import annotations


class TranslationError(ValueError):
    """A Kubernetes object cannot become a `LoadBalancerSpec` as written.

    `str(err)` is ``"<field>: <message>"``; `.field` and `.message` hold the parts.
    Retrying does not help: the user must change the object.
    """

    reason = "InvalidLoadBalancerSpec"  # the event reason users grep for

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def __reduce__(self) -> tuple[object, ...]:
        # keyword-only __init__ needs help to survive pickling (xdist, multiprocessing)
        return (_rebuild, (self.message, self.field))


def _rebuild(message: str, field: str) -> TranslationError:
    return TranslationError(message, field=field)
