"""rollcall: the operations backend for member organisations."""

__version__ = "0.1.0"
