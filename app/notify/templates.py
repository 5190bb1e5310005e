"""Email templates (Jinja2): every email has an HTML and a plain-text part, in the tenant's brand.

HTML templates autoescape every interpolated value (a player called ``<b>Jo</b> & Co`` arrives as text,
not markup), and rendering runs in a thread, so no user-supplied value is rendered on the event loop.

Subjects an admin writes (the email blast's ``subject_template``) are not Jinja: they are literal text with
``{{ name }}`` placeholders from a fixed set (:class:`SubjectTemplate`). There are no expressions, tags or
filters, so a subject cannot compute, loop or grow: rendering is one pass of substitution, each value is
flattened to one line, and the result is capped at the header length.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.notify.mail import SUBJECT_LIMIT, one_line

if TYPE_CHECKING:
    from app.tenants.models import Tenant

__all__ = [
    "DEFAULT_BRAND_COLOR",
    "Brand",
    "RenderedEmail",
    "SubjectTemplate",
    "SubjectTemplateError",
    "brand_of",
    "render",
]

DEFAULT_BRAND_COLOR = "#1f4e9c"


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    color: str = DEFAULT_BRAND_COLOR
    logo_url: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class SubjectTemplateError(ValueError):
    """An admin's subject is not literal text with known ``{{ name }}`` placeholders; the message says where."""


def brand_of(tenant: Tenant | None) -> Brand:
    """The tenant's brand in its emails (a club's or a hall's name, colour and logo)."""
    if tenant is None:
        return Brand(name="Your club")
    return Brand(name=tenant.name, color=tenant.brand_color or DEFAULT_BRAND_COLOR, logo_url=tenant.logo_url)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("app.notify", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


async def render(name: str, *, subject: str, brand: Brand, **context: Any) -> RenderedEmail:
    """Render ``<name>.html`` and ``<name>.txt`` with ``context`` (and ``brand``, ``subject``) in a thread."""
    return await asyncio.to_thread(_render, name, subject, brand, context)


def _render(name: str, subject: str, brand: Brand, context: dict[str, Any]) -> RenderedEmail:
    subject = one_line(subject)
    environment = _environment()
    values = {"brand": brand, "subject": subject, **context}
    return RenderedEmail(
        subject=subject,
        text=environment.get_template(f"{name}.txt").render(values),
        html=environment.get_template(f"{name}.html").render(values),
    )


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")


@dataclass(frozen=True, slots=True)
class SubjectTemplate:
    """A parsed subject: literal text and placeholder names, in order (literals at even positions)."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, template: str, names: Collection[str]) -> SubjectTemplate:
        """Literal text plus ``{{ name }}`` (spaces inside the braces optional) for ``name`` in ``names``.

        Anything else that opens template syntax (``{%``, ``{#``, a ``{{`` that is not a known name
        followed by ``}}``) raises :class:`SubjectTemplateError` naming the problem and the allowed names.
        One left-to-right scan: the cost is linear in the template's length whatever it holds.
        """
        parts: list[str] = []
        position = 0
        while (opening := _TEMPLATE_SYNTAX.search(template, position)) is not None:
            start = opening.start()
            placeholder = _PLACEHOLDER.match(template, start)
            if placeholder is None:
                raise SubjectTemplateError(_problem(template, start, names))
            name = placeholder.group(1)
            if name not in names:
                raise SubjectTemplateError(f"unknown placeholder {{{{ {name[:40]} }}}}; {_allowed(names)}")
            parts += [template[position:start], name]
            position = placeholder.end()
        parts.append(template[position:])
        return cls(tuple(parts))

    def render(self, values: Mapping[str, str]) -> str:
        """Substitute each placeholder with its value (on one line), and cap the result at the header length."""
        pieces = [
            part if index % 2 == 0 else one_line(values[part], SUBJECT_LIMIT) for index, part in enumerate(self.parts)
        ]
        return one_line("".join(pieces), SUBJECT_LIMIT)


def _problem(template: str, start: int, names: Collection[str]) -> str:
    opening = template[start : start + 2]
    if opening == "{%":
        what = "tags ({% ... %}) are not supported"
    elif opening == "{#":
        what = "comments ({# ... #}) are not supported"
    elif "}}" not in template[start:]:
        what = f"the {{{{ at character {start + 1} is never closed"
    else:
        end = template.index("}}", start) + 2
        snippet = template[start:end] if end - start <= 40 else template[start : start + 37] + "..."
        what = f"{snippet!r} is not a placeholder: expressions and filters are not supported"
    return f"{what}; {_allowed(names)}"


def _allowed(names: Collection[str]) -> str:
    return "a subject is text with the placeholders " + ", ".join(f"{{{{ {name} }}}}" for name in names)
