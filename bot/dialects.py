"""The two submit forms a provider may speak. Polling (`GET {base}/v1/videos/{id}`) and the
download (`GET {base}/v1/videos/{id}/content`, or the task's `url`) are the same in both."""
from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from bot.catalogue import DEFAULT_ASPECT, OPENAI_SIZES, Dialect, ModelSpec
from bot.models import VideoRequest


class SubmitForm(Protocol):
    #: Appended to the provider's base URL.
    path: str

    def path_for(self, request: VideoRequest) -> str: ...

    def body(self, request: VideoRequest, spec: ModelSpec) -> dict[str, Any]: ...

    def task_id(self, data: dict[str, Any]) -> str | None: ...


class ApiMasterForm:
    """`POST {base}/v1/videos/generations` answering `{"code":200,"data":[{"task_id":...}]}`;
    the resolution goes under the model's `resolution_field`, mapped by `resolution_values`."""

    path = "/v1/videos/generations"

    def path_for(self, request: VideoRequest) -> str:
        return self.path  # remix and extend are the openai dialect's (the catalogue says so)

    def body(self, request: VideoRequest, spec: ModelSpec) -> dict[str, Any]:
        body: dict[str, Any] = {"model": spec.model_id, "prompt": request.prompt,
                                "duration": request.duration,
                                spec.resolution_field: spec.resolution_value(request.resolution)}
        if request.aspect:
            body["aspect_ratio"] = request.aspect
        if request.image_url:
            body["image_urls"] = [request.image_url]
        # The model's constants never override what the user asked for.
        return {**body, **{k: v for k, v in spec.extra.items() if k not in body}}

    def task_id(self, data: dict[str, Any]) -> str | None:
        items = data.get("data")
        item = items[0] if isinstance(items, list) and items else items
        if not isinstance(item, dict):
            return None
        task = item.get("task_id") or item.get("id")
        return str(task) if task else None


class OpenAIForm:
    """OpenAI's own form: `POST {base}/v1/videos` with `seconds` as a string and `size` as
    WIDTHxHEIGHT, answering the video object with its `id`."""

    path = "/v1/videos"

    def path_for(self, request: VideoRequest) -> str:
        if request.remix_of:
            return f"/v1/videos/{quote(request.remix_of, safe='')}/remix"
        if request.extend_of:
            return "/v1/videos/extensions"
        return self.path

    def body(self, request: VideoRequest, spec: ModelSpec) -> dict[str, Any]:
        if request.remix_of:  # the remixed video keeps its model, size and length
            return {"prompt": request.prompt}
        if request.extend_of:
            return {"video_id": request.extend_of, "prompt": request.prompt,
                    "seconds": str(request.duration)}
        # Image-to-video may leave the aspect to the image; OpenAI needs a size regardless.
        size = OPENAI_SIZES[(request.resolution, request.aspect or DEFAULT_ASPECT)]
        body: dict[str, Any] = {"model": spec.model_id, "prompt": request.prompt,
                                "seconds": str(request.duration), "size": size}
        if request.image_url:
            body["input_reference"] = request.image_url
        return {**body, **{k: v for k, v in spec.extra.items() if k not in body}}

    def task_id(self, data: dict[str, Any]) -> str | None:
        if isinstance(data.get("data"), dict):  # a reseller wrapping the object
            data = data["data"]
        task = data.get("id") or data.get("task_id")
        return str(task) if task else None


FORMS: dict[Dialect, SubmitForm] = {"apimaster": ApiMasterForm(), "openai": OpenAIForm()}
