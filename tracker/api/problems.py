"""Every error of the API as an RFC 9457 problem document (application/problem+json).

A refused parameter is named in ``invalid_params``, each with the reason a person reads,
so a script can tell which of its parameters to fix.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response

PROBLEM_TYPE = "application/problem+json"


class InvalidParameters(exceptions.APIException):
    """Query parameters the API cannot use: ``params`` is a list of (name, reason)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("The request has parameters the API cannot use.")
    default_code = "invalid_parameters"

    def __init__(self, params):
        super().__init__()
        self.params = params


TITLES = {
    400: gettext_lazy("Bad request"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    429: gettext_lazy("Too many requests"),
}


def problem(status_code, detail, instance, headers=None, **extensions):
    """A problem document as a response."""
    body = {
        "type": "about:blank",
        "title": str(TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
        "instance": instance,
        **extensions,
    }
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_TYPE)
    return response


def exception_handler(exc, context):
    request = context["request"]
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("No such record in the register."))
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    extensions = {}
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        headers["Retry-After"] = str(wait)
        detail = _("Too many requests from this client: try again in %(n)d seconds.") % {"n": wait}
    elif isinstance(exc, InvalidParameters):
        detail = exc.detail
        extensions["invalid_params"] = [
            {"name": name, "reason": str(reason)} for name, reason in exc.params
        ]
    else:
        detail = exc.detail if isinstance(exc.detail, str) else exc.default_detail
    return problem(exc.status_code, detail, request.get_full_path(), headers=headers, **extensions)
