"""Schema plugins that make the OpenAPI document say what the API does, and request-body examples.

Litestar's defaults document a page (``OffsetPagination``) with every field optional, a struct that
refuses unknown fields as if it took any, drop a zero bound of an optional field, call a time of day a
duration, and know nothing of ``Instant``. Generated clients
(openapi-typescript and the like) believe the document, so these plugins correct it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import TYPE_CHECKING

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Example, OpenAPIFormat, OpenAPIType, Schema
from litestar.params import Body, BodyKwarg
from litestar.plugins import OpenAPISchemaPlugin

from app.core.query import Instant
from app.core.text import END

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

__all__ = ["RequestExamples", "document_schema_plugins"]


class RequestExamples:
    """The OpenAPI example of each request body of a package, declared in its schemas module beside the Structs.

    ``body = RequestExamples({Model: Example(...)})`` there; ``Annotated[Model, body(Model)]`` in a controller.
    """

    def __init__(self, examples: Mapping[type[msgspec.Struct], Example]) -> None:
        self.examples = dict(examples)

    def __call__(self, model: type[msgspec.Struct]) -> BodyKwarg:
        """The body's OpenAPI title (the Struct's name) and its example."""
        kwarg: BodyKwarg = Body(title=model.__name__, examples=[self.examples[model]])
        return kwarg


class PageSchema(OpenAPISchemaPlugin):
    """A page of a list: every field is always there."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.origin is OffsetPagination

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        return Schema(
            type=OpenAPIType.OBJECT,
            required=["items", "limit", "offset", "total"],
            properties={
                "items": Schema(
                    type=OpenAPIType.ARRAY, items=schema_creator.for_field_definition(field_definition.inner_types[0])
                ),
                "limit": Schema(type=OpenAPIType.INTEGER, description="The page size asked for"),
                "offset": Schema(type=OpenAPIType.INTEGER, description="Items skipped before this page"),
                "total": Schema(type=OpenAPIType.INTEGER, description="Items matching the filters, on every page"),
            },
        )


class InstantSchema(OpenAPISchemaPlugin):
    """``Instant`` is a ``date-time`` string."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.annotation is Instant

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME, examples=["2026-09-01T00:00:00Z"])


class TimeOfDaySchema(OpenAPISchemaPlugin):
    """A ``time`` is a wall-clock time as msgspec reads and writes it, ``HH:MM:SS[.ffffff]`` without an offset
    (the hall's times of day are in its own timezone); Litestar documents it as a ``duration``."""

    PATTERN = rf"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,6}})?{END}"

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.annotation is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        return Schema(type=OpenAPIType.STRING, pattern=self.PATTERN, examples=["08:00:00"])


class StructSchema(StructSchemaPlugin):
    """Litestar's struct schema, corrected.

    A struct with ``forbid_unknown_fields`` answers 400 to an unknown field: ``additionalProperties: false``.
    A bound of zero (``Meta(ge=0)``) on a field that may be absent or null is dropped by Litestar, which
    copies only truthy constraints onto a union's schema: it is put back.
    """

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        struct = field_definition.type_
        if struct.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        for field in msgspec.inspect.type_info(struct).fields:  # type: ignore[attr-defined]
            prop = (schema.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                _restore_zero_bounds(prop, field.type)
        return schema


_ZERO_BOUNDS = {"ge": "minimum", "gt": "exclusive_minimum", "le": "maximum", "lt": "exclusive_maximum"}


def _restore_zero_bounds(prop: Schema, field_type: msgspec.inspect.Type) -> None:
    for member in getattr(field_type, "types", (field_type,)):
        number = member.type if isinstance(member, msgspec.inspect.Metadata) else member
        if isinstance(number, msgspec.inspect.IntType | msgspec.inspect.FloatType):
            for bound, key in _ZERO_BOUNDS.items():
                if getattr(number, bound) == 0 and getattr(prop, key) is None:
                    setattr(prop, key, 0)


def document_schema_plugins() -> list[OpenAPISchemaPlugin]:
    """Register with the app's ``plugins``: they take precedence over Litestar's own schema plugins."""
    return [PageSchema(), InstantSchema(), TimeOfDaySchema(), StructSchema()]
