"""Typed errors of a Convex deployment, each with a message that tells the user what to do.

The server's own words are kept (`code`, `server_message`, `error_data`, `log_lines`) so nothing is lost
between the deployment and the person reading the error.
"""

from __future__ import annotations

from typing import Any


class ConvexRequestError(Exception):
    """Base class. `retryable` says whether the same request may simply be sent again (a read);
    `resend_safe` says the deployment provably never ran it, so even a write may be sent again."""

    retryable = False
    resend_safe = False
    advice = ""
    retry_after: float | None = None  # seconds the deployment asked us to wait (Retry-After), if it did
    request_id: str | None = None

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 server_message: str | None = None, error_data: Any = None, log_lines: list[str] | None = None,
                 path: str | None = None) -> None:
        self.status = status
        self.code = code
        self.server_message = server_message
        self.error_data = error_data
        self.log_lines = log_lines or []
        self.path = path
        self.message = message  # without the advice
        super().__init__(message + (f" {self.advice}" if self.advice else ""))


class NetworkError(ConvexRequestError):
    retryable = True
    advice = "Check the deployment URL and your connection; the console retries reads by itself."


class NotSent(NetworkError):
    """The connection could not be opened: the request never left, so even a write may be sent again."""

    resend_safe = True


class RequestTimeout(NetworkError):
    advice = "The deployment did not answer in time; the console retries reads by itself."


class MalformedResponse(ConvexRequestError):
    advice = ("The deployment answered with something that is not the Convex protocol. Check that the URL is the "
              "deployment's .convex.cloud address (not the .convex.site HTTP-actions address) or a proxy in front of it.")


class ResponseTooLarge(ConvexRequestError):
    """An answer bigger than the console's cap (after decompression). Not retried: it would be as big again."""

    advice = ("The console stopped reading it rather than run out of memory. If the deployment really holds documents "
              "this large, raise the cap with OPS_CONSOLE_MAX_RESPONSE_MB.")


class ClientUnsupported(ConvexRequestError):
    advice = ("The deployment refuses this version of the console's Convex client. Upgrade ops-console to the latest "
              "release (pip install -U ops-console, or a new desktop bundle).")


class InvalidArguments(ConvexRequestError):
    advice = "The console could not encode these arguments as Convex values; this is a bug worth reporting."


class InvalidText(InvalidArguments):
    advice = ("Retype that text: it holds a character no Convex string can (it comes from a broken paste, or from "
              "data a server sent).")


class AuthRejected(ConvexRequestError):
    advice = ("The deploy key was rejected. Copy a fresh deploy key from the dashboard (Settings > Deploy keys) "
              "into Settings, and check it belongs to this deployment.")


class NotPermitted(ConvexRequestError):
    advice = "The key or the acting user is not allowed to do this."


class StreamingExportNotEnabled(ConvexRequestError):
    advice = ("Streaming export is not enabled for this deployment: on Convex Cloud it needs the Pro plan (self-hosted "
              "deployments have it). Until then the console can only read through functions.")


class FunctionNotFound(ConvexRequestError):
    advice = ("The deployment has no such public function. Deploy the console contract (see the README) or check the "
              "function path.")


class FunctionError(ConvexRequestError):
    """The function ran and threw. `error_data` holds a ConvexError's data."""


class RedactedFunctionError(FunctionError):
    """A production deployment hid why the function failed (`[Request ID: …] Server Error`): it may be missing
    (not deployed) or it threw. Only the request id is left to look it up in the dashboard's logs."""


class Overloaded(ConvexRequestError):
    retryable = True
    advice = "The deployment is overloaded or rate-limiting; reads are retried with backoff."


class RateLimited(Overloaded):
    """429: refused before the function ran (or before its transaction committed), so a write may be resent."""

    resend_safe = True


class RejectedBeforeExecution(Overloaded):
    """503 with one of the backend's rejected-before-execution codes: the function never started."""

    resend_safe = True


class ServerError(ConvexRequestError):
    retryable = True
    advice = "The deployment or a proxy in front of it failed; reads are retried with backoff."


class BadRequest(ConvexRequestError):
    advice = "The console sent a request the deployment refused; this is a bug worth reporting."


class SchemaUnavailable(BadRequest):
    """json_schemas cannot describe some table (NoSchemaForExport, UnsupportedSchemaForExport...)."""

    advice = "The console falls back to listing the tables another way."


class NeedsResync(ConvexRequestError):
    """The replica's position cannot be continued from; the sync rebuilds it."""


class SnapshotExpired(NeedsResync):
    advice = "The replica's snapshot or delta cursor is older than the deployment keeps; a full resync starts."


class SnapshotTooNew(NeedsResync):
    advice = ("The replica's snapshot is newer than the deployment's own clock (was the deployment restored from a "
              "backup, or is this another deployment at the same address?); a full resync starts.")


class InvalidCursor(NeedsResync):
    advice = "The sync cursor was refused; a full resync starts."


# Short codes of the backend's `rejected_before_execution` errors (crates/isolate/src/metrics.rs).
REJECTED_BEFORE_EXECUTION = {"ExpiredInQueue", "WorkerOverloaded", "IsolateNotClean", "InitialPermitTimeoutError",
                             "ExecuteFullError"}


_BY_CODE: dict[str, type[ConvexRequestError]] = {
    "BadAdminKey": AuthRejected,
    "BadDeployKey": AuthRejected,
    "InvalidAuthHeader": AuthRejected,
    "MissingAccessToken": AuthRejected,
    "Unauthenticated": AuthRejected,
    "OperationNotPermitted": NotPermitted,
    "StreamingExportNotEnabled": StreamingExportNotEnabled,
    "ClientVersionUnsupported": ClientUnsupported,
    "InvalidClientVersion": ClientUnsupported,
    "SnapshotTooOld": SnapshotExpired,
    "SnapshotTooNew": SnapshotTooNew,
    "NoSchemaForExport": SchemaUnavailable,
    "UnsupportedSchemaForExport": SchemaUnavailable,
    "NoTableDefinitionForExport": SchemaUnavailable,
    "ComponentPathNotFound": FunctionNotFound,
    "InvalidWindowToReadDocuments": SnapshotExpired,
    "InvalidListSnapshotCursor": InvalidCursor,
    "DocumentDeltasCursorRequired": BadRequest,
    "BadConvexFunctionIdentifier": FunctionNotFound,
}


def error_for(status: int, code: str | None, message: str | None, *, path: str | None = None) -> ConvexRequestError:
    """The error for a non-2xx answer `{"code", "message"}`."""
    cls: type[ConvexRequestError]
    if code and code in _BY_CODE:
        cls = _BY_CODE[code]
    elif status == 429:
        cls = RateLimited
    elif status == 503 and code in REJECTED_BEFORE_EXECUTION:
        cls = RejectedBeforeExecution
    elif status == 401:
        cls = AuthRejected
    elif status == 403:
        cls = NotPermitted
    elif status == 404:
        cls = FunctionNotFound if path else MalformedResponse
    elif status in (429, 503):
        cls = Overloaded
    elif status >= 500:
        cls = ServerError
    else:
        cls = BadRequest
    text = f"{status} {code or ''}: {message or ''}".strip()
    return cls(text, status=status, code=code, server_message=message, path=path)
