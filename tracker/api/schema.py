"""The OpenAPI description of every operation, with the answers besides 200 that every
GET of the API may give: 304, and problem documents for 400, 404 and 429."""

from drf_spectacular.openapi import AutoSchema

from tracker.api.problems import ERROR_RESPONSES, PROBLEM_TYPE


class RegisterSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in ERROR_RESPONSES.items():
            responses.setdefault(
                str(code),
                self._get_response_for_code(
                    response, str(code), media_types=[PROBLEM_TYPE], direction=direction
                ),
            )
        return responses
