"""Exceptions told as one readable sentence, the same way in the window and on the command line."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from mediafind.errors import DESCRIBE_MAX, LibraryBusy, MediafindError, UnreadableFile, describe


def test_our_own_errors_are_told_by_their_message_alone() -> None:
    assert describe(LibraryBusy("library x is locked by another process")) == (
        "library x is locked by another process"
    )
    assert describe(UnreadableFile("empty file")) == "empty file"


def test_our_own_error_without_a_message_is_told_by_its_kind() -> None:
    assert describe(MediafindError()) == "MediafindError"


def test_a_system_error_says_what_the_system_said_and_about_which_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.jpg"
    with pytest.raises(OSError) as caught:
        missing.read_bytes()
    assert describe(caught.value) == f"{os.strerror(errno.ENOENT)}: {missing}"


def test_a_system_error_about_two_files_names_both() -> None:
    error = OSError(errno.EXDEV, os.strerror(errno.EXDEV), "/a/one", None, "/b/two")
    assert describe(error) == f"{os.strerror(errno.EXDEV)}: /a/one → /b/two"


def test_a_system_error_about_a_file_named_in_bytes_shows_the_name() -> None:
    error = PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsencode("/a/été.png"))
    assert describe(error) == f"{os.strerror(errno.EACCES)}: /a/été.png"


def test_a_system_error_without_a_file_is_what_the_system_said() -> None:
    assert describe(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")) == (
        "Connection refused"
    )


def test_an_os_error_with_only_a_message_is_told_like_any_other() -> None:
    # Pillow raises OSError("image file is truncated"): no errno, no strerror.
    assert describe(OSError("image file is truncated")) == "OSError: image file is truncated"


def test_anything_else_is_its_type_and_the_first_line_of_its_message() -> None:
    error = RuntimeError("  Error(s) in loading state_dict:\n\tsize mismatch for visual.proj  ")
    assert describe(error) == "RuntimeError: Error(s) in loading state_dict:"


def test_an_error_without_a_message_is_its_type() -> None:
    assert describe(KeyError()) == "KeyError"
    assert describe(ValueError("   \n ")) == "ValueError"


def test_a_long_message_is_cut_to_a_readable_length() -> None:
    text = describe(ValueError("x" * 5000))
    assert len(text) == DESCRIBE_MAX
    assert text.startswith("ValueError: xxx") and text.endswith("…")
