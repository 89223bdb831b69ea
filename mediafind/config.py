"""Settings file and where things live on disk (platformdirs, with environment overrides)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import platformdirs
import tomli_w

from mediafind import privacy
from mediafind.errors import ConfigError

APP_NAME = "mediafind"
LIBRARY_FILE = "library.sqlite3"

# Environment overrides, for tests, portable installs and scripts.
ENV_LIBRARY = "MEDIAFIND_LIBRARY"
ENV_MODEL = "MEDIAFIND_MODEL"
ENV_DEVICE = "MEDIAFIND_DEVICE"
ENV_CONFIG_DIR = "MEDIAFIND_CONFIG_DIR"
ENV_DATA_DIR = "MEDIAFIND_DATA_DIR"
ENV_CACHE_DIR = "MEDIAFIND_CACHE_DIR"
# Set (to anything but 0): commands never ask a running mediafind, each does its own work.
ENV_NO_INSTANCE = "MEDIAFIND_NO_INSTANCE"

DEVICES = ("auto", "cpu", "cuda", "mps")
# Reloading the default model takes a few seconds; five idle minutes keep it for a working
# session and give the memory back when the app sits in the background.
DEFAULT_MODEL_IDLE_SECONDS = 300


def config_dir() -> Path:
    return Path(os.environ.get(ENV_CONFIG_DIR) or platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE_DIR) or platformdirs.user_cache_dir(APP_NAME))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME))


def settings_path() -> Path:
    return config_dir() / "settings.toml"


@dataclass(frozen=True)
class Settings:
    """What the user chose; None or empty means "the default"."""

    model: str | None = None
    device: str = "auto"
    library: str | None = None
    excludes: tuple[str, ...] = field(default_factory=tuple)
    # Seconds an unused model stays in memory (it takes about 1 GB for the default model).
    model_idle_seconds: int = DEFAULT_MODEL_IDLE_SECONDS
    # Read the text in pictures (screenshots, receipts, scanned PDFs): on by default; limited
    # to these folders when any are given.
    ocr: bool = True
    ocr_folders: tuple[str, ...] = field(default_factory=tuple)

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing file means all defaults."""
    path = path or settings_path()
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        return Settings()
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read settings file {path}: {e}") from e
    known = {"model", "device", "library", "excludes", "model_idle_seconds", "ocr", "ocr_folders"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)} in {path}")
    excludes = raw.get("excludes", [])
    if not isinstance(excludes, list) or not all(isinstance(x, str) for x in excludes):
        raise ConfigError(f"'excludes' in {path} must be a list of strings")
    for key in ("model", "device", "library"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"'{key}' in {path} must be a string")
    idle = raw.get("model_idle_seconds", DEFAULT_MODEL_IDLE_SECONDS)
    if not isinstance(idle, int) or isinstance(idle, bool) or idle < 0:
        raise ConfigError(f"'model_idle_seconds' in {path} must be a whole number of seconds")
    ocr = raw.get("ocr", True)
    if not isinstance(ocr, bool):
        raise ConfigError(f"'ocr' in {path} must be true or false")
    ocr_folders = raw.get("ocr_folders", [])
    if not isinstance(ocr_folders, list) or not all(isinstance(x, str) for x in ocr_folders):
        raise ConfigError(f"'ocr_folders' in {path} must be a list of folders")
    device = raw.get("device", "auto")
    if device not in DEVICES:
        raise ConfigError(f"'device' in {path} must be one of {', '.join(DEVICES)}, not {device!r}")
    return Settings(
        model=raw.get("model") or None,
        device=device,
        library=raw.get("library") or None,
        excludes=tuple(excludes),
        model_idle_seconds=idle,
        ocr=ocr,
        ocr_folders=tuple(ocr_folders),
    )


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings file atomically, leaving out defaults."""
    path = path or settings_path()
    data = {k: v for k, v in asdict(settings).items() if v not in (None, "", ())}
    if data.get("device") == "auto":
        del data["device"]
    if data.get("model_idle_seconds") == DEFAULT_MODEL_IDLE_SECONDS:
        del data["model_idle_seconds"]
    if data.get("ocr") is True:
        del data["ocr"]
    for key in ("excludes", "ocr_folders"):
        if key in data:
            data[key] = list(data[key])
    privacy.private_folder(path.parent)
    tmp = path.with_suffix(".tmp")
    with privacy.open_private(tmp, "wb") as f:
        tomli_w.dump(data, f)
    tmp.replace(path)


def library_dir(flag: str | None, settings: Settings) -> Path:
    """The library folder: --library, then MEDIAFIND_LIBRARY, then settings, then the default.
    Always a full path: a running instance, whose working folder is not ours, names it too."""
    chosen = flag or os.environ.get(ENV_LIBRARY) or settings.library
    return Path(chosen).expanduser().absolute() if chosen else data_dir().absolute() / "library"


def chosen_model(flag: str | None, settings: Settings) -> str | None:
    """The model the user asked for (--model, MEDIAFIND_MODEL, settings), or None."""
    return flag or os.environ.get(ENV_MODEL) or settings.model


def chosen_device(flag: str | None, settings: Settings) -> str:
    device = flag or os.environ.get(ENV_DEVICE) or settings.device
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    return device
