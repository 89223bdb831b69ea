"""mediafind: local-first search for your own photos and notes."""

__version__ = "0.1.0"
