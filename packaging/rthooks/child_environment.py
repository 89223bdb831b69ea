"""PyInstaller runtime hook (Linux): the programs mediafind starts get the user's environment,
not the bundle's.

PyInstaller's bootloader starts the app with LD_LIBRARY_PATH pointing into the bundle (keeping
the user's value in LD_LIBRARY_PATH_ORIG), so that the loader finds the bundled libraries.
Programs the app starts inherit it: opening a result runs xdg-open, which runs the file manager or
an image viewer, and those would load the bundle's glib, libstdc++ or Qt instead of their own and
fail with symbol errors. The running app is not affected by the change: the loader read the
variable when the process started.
"""

import os
import sys

if sys.platform.startswith("linux") and getattr(sys, "frozen", False):
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
