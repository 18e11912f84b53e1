"""Errors the operator API answers with: one shape for all of them (status, code word, message, field)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ogosync.errors import OgosyncError

ModelT = TypeVar("ModelT", bound=BaseModel)


class OperatorError(OgosyncError):
    """A request the operator API refuses: `status` is the HTTP status, `code` a short word for scripts."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def field_of(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)


def describe(errors: list[Any], prefix: str = "") -> tuple[str, str]:
    """(first field, message naming every field) of pydantic errors. The input is never quoted: it may be a secret."""
    fields = [prefix + field_of(_location(error)) for error in errors]
    message = "; ".join(f"{field or 'body'}: {_words(error)}" for field, error in zip(fields, errors, strict=True))
    return fields[0] if fields else prefix.rstrip("."), message


def _location(error: Mapping[str, Any]) -> tuple[int | str, ...]:
    """Where the error is; for an unknown field, the field itself (pydantic puts it on the model that has it)."""
    location = tuple(error["loc"])
    if error.get("type") == "unknown_field":
        return (*location, error["ctx"]["first"])
    return location


def _words(error: Mapping[str, Any]) -> str:
    """pydantic's message, without the "Value error, " it puts before our validators' own words."""
    message = str(error["msg"])
    return message.removeprefix("Value error, ") if error.get("type") == "value_error" else message


def validated(model: type[ModelT], values: Mapping[str, Any], prefix: str = "") -> ModelT:
    """`model` built from `values`, or a 422 naming the first invalid field."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        field, message = describe(exc.errors(), prefix)
        raise OperatorError(422, "invalid_request", message, field) from None


def not_found(code: str, message: str) -> OperatorError:
    return OperatorError(404, code, message)


def conflict(code: str, message: str) -> OperatorError:
    return OperatorError(409, code, message)
