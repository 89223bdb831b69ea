"""The settings file and the choices that flags, the environment and settings make together."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediafind import config
from mediafind.config import Settings, chosen_device, chosen_model, library_dir
from mediafind.errors import ConfigError


def test_saved_settings_load_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    chosen = Settings(
        model="ViT-B-32:laion2b_s34b_b79k",
        device="cuda",
        library="~/Pictures/library",
        excludes=("*.tmp", "trips/2019"),
    )

    config.save_settings(chosen, path)

    assert config.load_settings(path) == chosen
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_settings_are_saved_where_the_config_dir_points() -> None:
    config.save_settings(Settings(model="tiny"))
    assert config.settings_path().is_file()
    assert config.load_settings() == Settings(model="tiny")


def test_defaults_are_left_out_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    config.save_settings(Settings(model="tiny"), path)
    assert path.read_text() == 'model = "tiny"\n'


def test_missing_file_gives_the_defaults(tmp_path: Path) -> None:
    assert config.load_settings(tmp_path / "nowhere.toml") == Settings()


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('model = "tiny\n')
    with pytest.raises(ConfigError) as raised:
        config.load_settings(path)
    assert str(path) in str(raised.value)


def test_unknown_setting_is_named_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('modle = "tiny"\ndevice = "cpu"\n')
    with pytest.raises(ConfigError, match="modle") as raised:
        config.load_settings(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    "content",
    ['device = "tpu"\n', "model = 3\n", 'excludes = "*.tmp"\n', "excludes = [1, 2]\n"],
    ids=["unknown device", "model not a string", "excludes not a list", "excludes of numbers"],
)
def test_setting_of_the_wrong_kind_is_a_config_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as raised:
        config.load_settings(path)
    assert str(path) in str(raised.value)


# -- precedence --------------------------------------------------------------------------------


def test_library_flag_wins_over_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAFIND_LIBRARY", "/from/env")
    assert library_dir("/from/flag", Settings(library="/from/settings")) == Path("/from/flag")


def test_library_env_wins_over_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAFIND_LIBRARY", "/from/env")
    assert library_dir(None, Settings(library="/from/settings")) == Path("/from/env")


def test_library_from_settings_expands_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/ada")
    assert library_dir(None, Settings(library="~/library")) == Path("/home/ada/library")


def test_library_defaults_to_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDIAFIND_DATA_DIR", str(tmp_path / "data"))
    assert library_dir(None, Settings()) == tmp_path / "data" / "library"


def test_model_flag_wins_over_env_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAFIND_MODEL", "env-model")
    assert chosen_model("flag-model", Settings(model="settings-model")) == "flag-model"


def test_model_env_wins_over_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAFIND_MODEL", "env-model")
    assert chosen_model(None, Settings(model="settings-model")) == "env-model"


def test_model_from_settings_when_nothing_else_says() -> None:
    assert chosen_model(None, Settings(model="settings-model")) == "settings-model"
    assert chosen_model(None, Settings()) is None


def test_device_from_the_environment_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAFIND_DEVICE", "cpu")
    assert chosen_device(None, Settings(device="cuda")) == "cpu"
    monkeypatch.setenv("MEDIAFIND_DEVICE", "gpu")
    with pytest.raises(ConfigError, match="gpu"):
        chosen_device(None, Settings())


def test_model_idle_time_is_a_setting_checked_on_load(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    config.save_settings(Settings(model_idle_seconds=60), path)
    assert config.load_settings(path).model_idle_seconds == 60
    config.save_settings(Settings(), path)
    assert "model_idle_seconds" not in path.read_text()
    path.write_text("model_idle_seconds = -5\n")
    with pytest.raises(ConfigError, match="whole number of seconds"):
        config.load_settings(path)
