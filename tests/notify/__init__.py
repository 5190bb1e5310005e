"""The GroupMe client against a GroupMe stand-in on loopback."""
