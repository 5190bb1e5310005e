"""Tenants: each club or hiring hall is one tenant; every owned row carries its id."""
