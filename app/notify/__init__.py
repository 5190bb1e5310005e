"""Notifications: email (SMTP, templates, email log) and the GroupMe client."""
