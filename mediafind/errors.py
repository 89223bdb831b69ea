"""Errors the core raises; the CLI and the GUI turn them into one readable line."""


class MediafindError(Exception):
    """Base class: the message is written for the user and stands on its own."""


class ConfigError(MediafindError):
    """The settings file or an option cannot be understood."""


class LibraryError(MediafindError):
    """The library file cannot be opened or used."""


class LibraryTooNew(LibraryError):
    """The library was written by a newer mediafind than this one."""


class LibraryBusy(LibraryError):
    """Another process is writing this library."""


class ModelMismatch(LibraryError):
    """The library's vectors were made by another model than the one asked for."""


class ModelUnavailable(MediafindError):
    """The model's weights cannot be loaded; the message says how to get them."""


class UnreadableFile(MediafindError):
    """One file cannot be indexed; the message is the reason recorded for it."""
