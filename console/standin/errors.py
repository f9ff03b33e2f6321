"""The error a stand-in route answers with: status, code and message, as a deployment's JSON error body."""


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
