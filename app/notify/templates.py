"""Email templates (Jinja2): every email has an HTML and a plain-text part, in the tenant's brand.

HTML templates autoescape every interpolated value (a player called ``<b>Jo</b> & Co`` arrives as text,
not markup). Subjects an admin writes (the email blast's ``subject_template``) run in Jinja's sandbox
with a fixed set of variables, so a template can format values but never reach Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.notify.mail import one_line

__all__ = ["DEFAULT_BRAND_COLOR", "Brand", "RenderedEmail", "SubjectTemplateError", "render", "render_subject"]

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
    """An admin's subject template does not compile or uses a variable that does not exist."""


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


@lru_cache(maxsize=1)
def _sandbox() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def render(name: str, *, subject: str, brand: Brand, **context: Any) -> RenderedEmail:
    """Render ``<name>.html`` and ``<name>.txt`` with ``context`` (and ``brand``, ``subject``)."""
    subject = one_line(subject)
    environment = _environment()
    values = {"brand": brand, "subject": subject, **context}
    return RenderedEmail(
        subject=subject,
        text=environment.get_template(f"{name}.txt").render(values),
        html=environment.get_template(f"{name}.html").render(values),
    )


def render_subject(template: str, **variables: Any) -> str:
    """Render an admin-written subject in the sandbox; a bad template raises :class:`SubjectTemplateError`."""
    try:
        return one_line(_sandbox().from_string(template).render(variables))
    except TemplateError as error:
        names = ", ".join(sorted(variables))
        raise SubjectTemplateError(f"subject_template does not render ({error.message}); variables: {names}") from None
