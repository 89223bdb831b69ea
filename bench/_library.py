"""Helpers for the benchmarks: big folders whose files the library already holds as indexed."""

from __future__ import annotations

import time
from pathlib import Path

from mediafind import scan
from mediafind.store import ModelInfo, Store


def make_folder(root: Path, files: int, per_folder: int = 100) -> None:
    """files small notes, per_folder to a folder, nested two levels deep."""
    started = time.perf_counter()
    for i in range(files):
        folder = root / f"year {i // (per_folder * 50)}" / f"album {i // per_folder}"
        if i % per_folder == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note {i}.txt").write_text(f"note number {i}")
    print(f"made {files} files in {time.perf_counter() - started:.1f} s")


def mark_indexed(library: Path, root: Path, model: ModelInfo | None = None) -> None:
    """Record every file under root as indexed (embedding is not what these benchmarks time)."""
    with Store.open(library, writer=True) as store:
        folder = store.add_root(root)
        scan.reconcile(store, [folder])
        if model is not None:
            store.set_model(model)
        with store.atomic():
            store.conn.execute("UPDATE files SET status = 'indexed', hash = 'x'")
