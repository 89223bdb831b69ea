"""The desktop window (PySide6). The only part of mediafind that imports Qt."""
