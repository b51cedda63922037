from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from vpo.config.models import (
    DEFAULT_EXTENSIONS,
    DiscoveryConfig,
    JobsConfig,
    ProcessingConfig,
    ToolsConfig,
    VPOConfig,
)


def test_defaults_match_the_agreed_interface(tmp_path: Path) -> None:
    config = VPOConfig()
    assert config.processing.workers == 2
    assert config.processing.max_workers == "auto"
    assert config.tools.probe_timeout == 60.0
    assert config.tools.ffmpeg is None
    assert config.jobs.keep_backup is False
    assert config.jobs.temp_dir is None
    assert config.jobs.preserve_mtime is True
    assert config.jobs.stable_seconds == 10.0
    assert config.discovery.extensions == DEFAULT_EXTENSIONS
    assert "mkv" in config.discovery.extensions and "ogm" in config.discovery.extensions
    # the database defaults into the (isolated) XDG data dir
    assert config.library.database == tmp_path / "home/.local/share/vpo/library.db"


def test_models_are_frozen() -> None:
    config = VPOConfig()
    with pytest.raises(ValidationError):
        config.processing.workers = 5


@pytest.mark.parametrize("model", [VPOConfig, ToolsConfig, ProcessingConfig, JobsConfig])
def test_unknown_fields_are_rejected(model: type[VPOConfig]) -> None:
    with pytest.raises(ValidationError, match="extra"):
        model.model_validate({"no_such_key": 1})


@pytest.mark.parametrize("workers", [0, -3])
def test_workers_below_one_rejected(workers: int) -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        ProcessingConfig(workers=workers)


@pytest.mark.parametrize("value", [True, "3", 2.0])
def test_workers_must_be_a_real_integer(value: object) -> None:
    with pytest.raises(ValidationError):
        ProcessingConfig.model_validate({"workers": value})


@pytest.mark.parametrize("value", [1, 64, "auto"])
def test_max_workers_accepts_positive_int_or_auto(value: int | str) -> None:
    assert ProcessingConfig.model_validate({"max_workers": value}).max_workers == value


@pytest.mark.parametrize("value", [0, -1, "Auto", "8", True, 2.5])
def test_max_workers_rejects_anything_else(value: object) -> None:
    with pytest.raises(ValidationError, match='at least 1 or "auto"'):
        ProcessingConfig.model_validate({"max_workers": value})


def test_extensions_are_normalised_lower_case_without_dots() -> None:
    config = DiscoveryConfig.model_validate({"extensions": [".MKV", "Mp4", "mkv", " webm "]})
    assert config.extensions == ("mkv", "mp4", "webm")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "at least one"),
        (["mkv", ""], "invalid extension"),
        (["a/b"], "invalid extension"),
        ("mkv", "list of strings"),
        ([1], "list of strings"),
    ],
)
def test_bad_extensions_rejected(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DiscoveryConfig.model_validate({"extensions": value})


def test_home_in_paths_is_expanded(tmp_path: Path) -> None:
    tools = ToolsConfig.model_validate({"ffmpeg": "~/bin/ffmpeg"})
    assert tools.ffmpeg == tmp_path / "home/bin/ffmpeg"
    assert tools.configured_paths()["ffmpeg"] == tmp_path / "home/bin/ffmpeg"
    assert tools.configured_paths()["ffprobe"] is None


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf")])
def test_probe_timeout_must_be_positive_and_finite(value: float) -> None:
    with pytest.raises(ValidationError):
        ToolsConfig(probe_timeout=value)


def test_stable_seconds_may_be_zero_but_not_negative() -> None:
    assert JobsConfig(stable_seconds=0).stable_seconds == 0
    with pytest.raises(ValidationError):
        JobsConfig(stable_seconds=-1)
