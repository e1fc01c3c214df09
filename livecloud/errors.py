class CloudError(Exception):
    """Any failure of a cloud call.

    `code` is Tencent's error code ("" for transport failures), `retryable` says whether the
    same call may succeed later (timeouts, connection errors, 5xx, internal errors, rate limits).
    """

    def __init__(self, message, *, code="", retryable=False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable

    def __str__(self):
        kind = "retryable" if self.retryable else "permanent"
        return f"{self.message} [{self.code or 'no code'}, {kind}]"
