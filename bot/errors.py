"""Typed errors. Each carries a short message fit to show a user; logs keep the traceback."""
from __future__ import annotations


class SoraError(Exception):
    """Base error: `user_message` is safe to show in chat (never holds a secret)."""

    user_message: str = "Something went wrong while making the video."
    #: True when retrying the same request later may succeed.
    retryable: bool = False

    def __init__(self, user_message: str | None = None) -> None:
        if user_message is not None:
            self.user_message = user_message
        super().__init__(self.user_message)


class ConfigError(SoraError):
    """A setting is missing or malformed."""


class InvalidRequest(SoraError):
    """The request fails validation; nothing was sent or charged."""


class QuotaExceeded(SoraError):
    """A budget would be exceeded; nothing was reserved."""


class AlreadyStarted(SoraError):
    """The member already has a live job for this message; nothing new was reserved."""

    user_message = ("You have already animated this message: the video is on its way or "
                    "already posted. Nothing new was started or charged.")


class AuthError(SoraError):
    user_message = "The video service rejected the bot's API key. An admin needs to check APIMASTER_API_KEY."


class BalanceError(SoraError):
    user_message = "The video service account is out of credit. An admin needs to top it up."


class RateLimited(SoraError):
    user_message = "The video service is busy (rate limited). Please try again in a minute."
    retryable = True

    def __init__(self, user_message: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(user_message)
        self.retry_after = retry_after


class UpstreamError(SoraError):
    user_message = "The video service had a temporary problem. Please try again shortly."
    retryable = True


class UpstreamRejected(SoraError):
    """APIMaster answered 400: it refused the parameters."""

    user_message = "The video service refused the request."


class ModelUnavailable(UpstreamRejected):
    """The provider does not know the model (HTTP 404 or `model_not_found` at submit): no task
    was made, so the job may move to the model's fallback."""

    def __init__(self, model: str, user_message: str | None = None) -> None:
        self.model = model
        super().__init__(user_message or (
            f"The video service no longer offers {model}. An admin can set a fallback for it "
            "(`fallback` in SORA_MODELS_FILE) or choose another model."))


class JobTimeout(SoraError):
    user_message = "The video took too long and was abandoned. Nothing was charged."


class GenerationFailed(SoraError):
    user_message = "The video could not be generated."


class DownloadError(SoraError):
    user_message = "The finished video could not be downloaded."
    retryable = True


class Interrupted(SoraError):
    user_message = (
        "The bot restarted while sending this job, so it cannot tell whether it was accepted. "
        "It was cancelled and nothing was charged; please try again."
    )


class DeliveryFailed(SoraError):
    """Raised by an adapter's `completed` when the video was made (and paid for upstream) but
    could not be handed over, after the adapter has told the user why."""

    user_message = "The video was made but could not be delivered."
