"""PyInstaller runtime hook. packaging/mediafind.spec adds it only when the build machine's
torchvision cannot load its native ops library beside its torch: a CPU torch with PyPI's
CUDA-linked torchvision, when the PyTorch CPU index is out of reach (see packaging/README.md).
Release builds, whose CPU torchvision loads its library, never get it.

torchvision declares fake kernels for `torchvision::nms` and `torchvision::qnms` at import time
whether or not its library loaded, so without the library `import torchvision` (and with it
open_clip) dies with "operator torchvision::nms does not exist". mediafind never calls these ops
(open_clip needs torchvision.transforms only), so declaring the two operators lets the import
finish; calling one would still fail loudly, for want of a kernel. The declaration waits for the
first import of torchvision, so that the window still starts without loading torch.
"""

import importlib.abc
import sys

# torchvision's own schemas (torch.ops.torchvision.nms.default._schema in a working install).
_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_kept = []  # a torch.library.Library unregisters its operators when it is garbage-collected


class _DeclareTorchvisionOps(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torchvision":
            sys.meta_path.remove(self)
            _declare()
        return None  # the usual finders import torchvision itself


def _declare():
    import importlib.machinery
    import importlib.util

    import torch

    spec = importlib.util.find_spec("torchvision")
    folder = list(spec.submodule_search_locations or []) if spec else []
    finder = importlib.machinery.FileFinder(
        folder[0] if folder else ".",
        (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
    )
    # The ops library's name: _C_stable from torchvision 0.29, _C before.
    for name in ("_C_stable", "_C"):
        found = finder.find_spec(name) if folder else None
        if found is None or found.origin is None:
            continue
        try:
            torch.ops.load_library(found.origin)
            return  # it loads after all: torchvision declares its operators itself
        except OSError:
            break
    library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS:
        library.define(schema)
    _kept.append(library)


sys.meta_path.insert(0, _DeclareTorchvisionOps())
