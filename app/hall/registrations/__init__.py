"""Registrations on referral books: rules 1 to 6 of docs/hall.md, their API and their daily run."""
