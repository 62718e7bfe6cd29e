"""Perkville's error body, exactly as the API reference's "Handling Errors" section shows it."""

from __future__ import annotations

from starlette.responses import JSONResponse

from .profiles import Profile, error_code

OAUTH_ERROR = "oauth_error"
AUTHORIZATION_ERROR = "authorization_error"
INVALID_REQUEST_ERROR = "invalid_request_error"
UNKNOWN_ERROR = "unknown_error"


class ApiError(Exception):
    """Raised anywhere in a resource handler; turned into the reference's error body."""

    def __init__(
        self,
        status: int,
        error_type: str,
        code: str,
        message: str,
        field: str = "__all__",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.code = code
        self.message = message
        self.field = field

    def body(self, profile: Profile = "default") -> dict[str, object]:
        """The body; the reference profile keeps only the codes the reference writes."""
        code = error_code(self.code, profile)
        return {
            "error_type": self.error_type,
            "errors": {self.field: [{"code": code, "message": self.message}]},
        }

    def response(self, profile: Profile = "default") -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="perkville"'} if self.status == 401 else None
        return JSONResponse(self.body(profile), status_code=self.status, headers=headers)


def invalid_request(code: str, message: str, field: str = "__all__") -> ApiError:
    return ApiError(400, INVALID_REQUEST_ERROR, code, message, field)


def not_found(resource: str) -> ApiError:
    return ApiError(404, INVALID_REQUEST_ERROR, "not_found", f"No such {resource}.")
