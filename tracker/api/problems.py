"""Every error of the API as an RFC 9457 problem document (application/problem+json).

A refused parameter is named in ``invalid_params``, each with the reason a person reads,
so a script can tell which of its parameters to fix.
"""

import logging

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

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
    500: gettext_lazy("Server error"),
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
        if settings.DEBUG:
            # The developer's traceback page.
            return None
        # Called while the exception is handled: its traceback goes to the log.
        logger.exception("API error on %s", request.get_full_path())
        return problem(
            500, _("The server failed to answer; the error was logged."), request.get_full_path()
        )
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


class InvalidParamSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The parameter.")
    reason = serializers.CharField(help_text="Why it cannot be used, in the request's language.")


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem document."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(help_text="The request's path and query.")
    invalid_params = InvalidParamSerializer(
        many=True, required=False, help_text="On a 400: every parameter refused."
    )


# The answers besides 200 that every GET of the API may give.
ERROR_RESPONSES = {
    304: OpenApiResponse(
        description="Not modified: the copy whose ETag (If-None-Match) or date "
        "(If-Modified-Since) was sent is current."
    ),
    400: OpenApiResponse(
        ProblemSerializer, description="Parameters the API cannot use, each named."
    ),
    404: OpenApiResponse(ProblemSerializer, description="No such record or address."),
    429: OpenApiResponse(
        ProblemSerializer,
        description="Too many requests from this client; the Retry-After header gives the "
        "seconds to wait.",
    ),
}
