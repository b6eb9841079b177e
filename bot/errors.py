"""Typed errors. Each carries a short message fit to show a user; logs keep the traceback."""
from __future__ import annotations


class SoraError(Exception):
    """Base error: `user_message` is safe to show in chat (never holds a secret)."""

    user_message: str = "Something went wrong while making the video."
    #: True when retrying the same request later may succeed.
    retryable: bool = False
    #: For a failed submit: False only when the service cannot have made a task (it answered
    #: with a refusal, or was never reached). True means the money must stay held.
    task_may_exist: bool = False

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


class DuplicateRequest(SoraError):
    """The same request arrived again (a retried or replayed event); nothing new was started."""

    user_message = "That request was already received; nothing new was started or charged."


class OutcomeUnknown(SoraError):
    """A submit may have reached the service but its answer did not reach us. The task may
    exist and be billed, so the cost stays held until an admin releases it or charges it;
    the job is never submitted again."""

    def __init__(self, cost: str) -> None:
        super().__init__(
            f"The video service may have made this video, but its answer was lost. {cost} is "
            f"held until an admin checks; the job will not be sent again.")


class Unfetched(SoraError):
    """The video was made (and billed) upstream but could not be fetched or saved: its cost
    stays held, and the next resume fetches it again while the service keeps it."""

    def __init__(self, cost: str, reason: str) -> None:
        super().__init__(
            f"The video was made, but the bot could not fetch it ({reason.rstrip('.')}). {cost} "
            "is held, as the video service charged for it; the bot tries again at its next "
            "start or `sora-bot resume` while the service keeps the video (about a day).")


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
    task_may_exist = True  # a 5xx, a timeout, a dropped connection: it may have been made


class Unreachable(UpstreamError):
    """The connection could not be made: nothing was sent."""

    user_message = "The video service could not be reached."
    task_may_exist = False


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




class DeliveryFailed(SoraError):
    """Raised by an adapter's `completed` when the video was made (and paid for upstream) but
    could not be handed over, after the adapter has told the user why."""

    user_message = "The video was made but could not be delivered."
