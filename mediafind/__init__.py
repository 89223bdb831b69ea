"""mediafind: local-first search for your own photos and notes."""

import os

# Before anything imports huggingface_hub (open_clip does): it never reports usage from here.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"
