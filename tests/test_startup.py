"""The command line starts without the heavy machinery."""

from __future__ import annotations

import subprocess
import sys


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from mediafind.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('torch', 'open_clip', 'torchvision', 'PySide6', 'rawpy', 'onnxruntime')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "usage: mediafind" in out.stdout
    assert "HEAVY []" in out.stdout


def test_python_dash_m_mediafind_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mediafind", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.startswith("mediafind ")
