#!/bin/sh
# Creates the virtual environment the packages are frozen from (default build/package-venv):
# the app's dependencies at the versions in constraints.txt, PyInstaller, and a CPU-only torch.
#
# Why a separate environment: the torch wheels on PyPI for Linux are CUDA builds whose core
# libraries (libtorch_cpu.so, libtorch_python.so) link libcudart, libcupti, libcudnn and NCCL, so
# their CUDA libraries (about 3 GB in nvidia-* wheels) cannot be left out of a bundle. The CPU
# wheels from the PyTorch index link none of them.
#
#   packaging/build-venv.sh [VENV]
#
# TORCH_INDEX overrides the CPU index; TORCH_LABEL the local version label of its builds (+cpu
# for Linux and Windows; "none" on macOS, whose wheels on PyPI are the CPU/MPS builds). Runs on
# Linux, macOS and, in Git Bash, Windows (the release workflow uses it on all three).
set -eu

VENV=${1:-build/package-venv}
PYTHON=${PYTHON:-python3}
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
TORCH_LABEL=${TORCH_LABEL:-+cpu}
if [ "$TORCH_LABEL" = none ]; then TORCH_LABEL=""; fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

pin() { sed -n "s/^$1==//Ip" constraints.txt; }
TORCH=$(pin torch)
VISION=$(pin torchvision)

test -d "$VENV" || "$PYTHON" -m venv "$VENV"
if [ -x "$VENV/bin/python" ]; then PY="$VENV/bin/python"; else PY="$VENV/Scripts/python.exe"; fi
PIP="$PY -m pip"
$PIP install --quiet --upgrade pip

# The other pins, without torch, torchvision and the CUDA packages only a CUDA torch needs.
mkdir -p build
grep -v -i -E '^(torch|torchvision|triton|nvidia-[a-z0-9-]+|cuda-[a-z-]+)==' constraints.txt \
    > build/constraints-cpu.txt

# The versions in constraints.txt, as the index's CPU builds (the +cpu label keeps pip from
# taking a CUDA build of the same version from another index or a wheelhouse).
if $PIP install --quiet --retries 1 --timeout 20 --index-url "$TORCH_INDEX" \
    "torch==$TORCH$TORCH_LABEL" "torchvision==$VISION$TORCH_LABEL"; then
    :
else
    # No way to the PyTorch index (an offline build machine): take the newest CPU torch wheel in
    # pip's find-links (a local wheelhouse) and the torchvision release made for it, and say so
    # loudly, since these are not the versions the tests ran with.
    wheel=""
    for dir in $(echo "${PIP_FIND_LINKS:-}" | tr ' ' '\n'); do
        for w in "$dir"/torch-*+cpu-*.whl; do
            test -f "$w" && wheel="$w"
        done
    done
    if [ -z "$wheel" ]; then
        echo "build-venv: cannot reach $TORCH_INDEX and no CPU torch wheel in PIP_FIND_LINKS" >&2
        exit 1
    fi
    version=$(basename "$wheel" | cut -d- -f2 | cut -d+ -f1)
    minor=$(echo "$version" | cut -d. -f2)
    # torchvision 0.N+15 is built against torch 2.N (0.29 for 2.14, 0.28 for 2.13, ...).
    vision="0.$((minor + 15)).*"
    echo "build-venv: WARNING: no torch==$TORCH$TORCH_LABEL from $TORCH_INDEX; using" \
        "$(basename "$wheel") and" \
        "torchvision $vision instead of torch $TORCH / torchvision $VISION" >&2
    $PIP install --quiet -c build/constraints-cpu.txt "$wheel"
    # PyPI's torchvision is linked against the CUDA torch: its ops library does not load next
    # to a CPU one, and packaging/mediafind.spec adds rthooks/torchvision_without_ops.py so that
    # `import torchvision` still works. --no-deps: pip must not swap the CPU torch for a CUDA one.
    $PIP install --quiet --no-deps "torchvision==$vision"
fi

# The app as installed for development (editable, so the spec freezes this checkout), with
# HEIC support (iPhone photos), which a desktop app cannot leave to an optional extra.
$PIP install --quiet -c build/constraints-cpu.txt -e '.[packaging,heic]'
# RapidOCR without its opencv-python requirement, as in the Makefile (pyproject.toml says why).
$PIP install --quiet --no-deps --ignore-requires-python -c build/constraints-cpu.txt \
    rapidocr_onnxruntime

# Refuse a CUDA torch: the spec would have to bundle gigabytes of CUDA libraries.
"$PY" - <<'PY'
import sys
import torch
if torch.version.cuda is not None:
    sys.exit(f"build-venv: torch {torch.__version__} is a CUDA build; the package needs a CPU one")
print(f"build-venv: torch {torch.__version__} (CPU)")
PY
