"""Schema plugins that make the OpenAPI document say what the API does.

Litestar's defaults document a page (``OffsetPagination``) with every field optional, a struct that
refuses unknown fields as if it took any, and know nothing of ``Instant``. Generated clients
(openapi-typescript and the like) believe the document, so these plugins correct it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advanced_alchemy.service import OffsetPagination
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin

from app.core.query import Instant

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

__all__ = ["document_schema_plugins"]


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


class ClosedStructSchema(StructSchemaPlugin):
    """A struct with ``forbid_unknown_fields`` answers 400 to an unknown field: ``additionalProperties: false``."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def document_schema_plugins() -> list[OpenAPISchemaPlugin]:
    """Register with the app's ``plugins``: they take precedence over Litestar's own schema plugins."""
    return [PageSchema(), InstantSchema(), ClosedStructSchema()]
