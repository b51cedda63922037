"""Sonarr/Radarr metadata end to end: ``vpo process`` and ``vpo scan`` ask a stand-in
Radarr (real HTTP on loopback) about the films of generated media, store the answers
in the library, and a policy keyed on ``radarr:original_language`` keeps each film's
original audio and English, in one batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.library import Library
from vpo.testmedia.arr_standin import ArrStandIn, Episode, Film, Show, serve_arr
from vpo.testmedia.demo import build_demo_library
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.tools.locate import locate_tools

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
VPO = Path(sys.executable).with_name("vpo")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"

# Keep the original language and English; the original is the default audio. A
# film whose original language is unknown is left alone (the rule skips the filter).
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [original, eng]
phases:
  - name: languages
    conditional:
      - name: unknown-original
        when: "not (radarr:original_language or sonarr:original_language)"
        then:
          - skip_track_filter: [audio]
    audio_filter:
      languages: [original, eng]
    default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""

FILMS = {  # name: (Radarr's language name, audio languages in the file)
    "Spirited Away (2001)": ("Japanese", ("jpn", "eng", "ger")),
    "Amelie (2001)": ("French", ("fre", "eng", "spa")),
    "Das Boot (1981)": ("German", ("spa", "eng", "ger")),  # the original last
}
KEPT = {
    "Spirited Away (2001)": ["jpn", "eng"],
    "Amelie (2001)": ["fre", "eng"],
    "Das Boot (1981)": ["eng", "ger"],  # kept in file order; the original is the default
}


def spec(languages: tuple[str, ...]) -> MediaSpec:
    return MediaSpec(
        audio=tuple(
            AudioSpec(language=code, default=index == 0) for index, code in enumerate(languages)
        )
    )


def audio_tracks(path: Path) -> list[tuple[str, bool]]:
    out = subprocess.run(["mkvmerge", "-J", str(path)], capture_output=True, check=True).stdout
    return [
        (t["properties"]["language"], t["properties"]["default_track"])
        for t in json.loads(out)["tracks"]
        if t["type"] == "audio"
    ]


def audio_languages(path: Path) -> list[str]:
    """Any container mkvmerge reads (MP4 and WebM report no default flag to it)."""
    out = subprocess.run(["mkvmerge", "-J", str(path)], capture_output=True, check=True).stdout
    tracks = json.loads(out)["tracks"]
    return [t["properties"].get("language", "und") for t in tracks if t["type"] == "audio"]


def audio(path: Path) -> list[str]:
    return [language for language, _ in audio_tracks(path)]


def default_audio(path: Path) -> str:
    (language,) = [language for language, default in audio_tracks(path) if default]
    return language


@pytest.fixture
def films(media_factory: MediaFactory) -> dict[str, Path]:
    return {
        name: media_factory(spec(languages), f"films/{name}/{name}.mkv")
        for name, (_, languages) in FILMS.items()
    }


@pytest.fixture
def radarr(films: dict[str, Path]) -> Iterator[ArrStandIn]:
    state = ArrStandIn(
        films=[
            Film(index, name.rsplit(" (", 1)[0], 2001, language, f"/movies/{name}/{name}.mkv")
            for index, (name, (language, _)) in enumerate(FILMS.items(), start=1)
        ]
    )
    with serve_arr(state) as running:
        yield running


@pytest.fixture
def configured(
    radarr: ArrStandIn, films: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Radarr at the stand-in, seeing the films under /movies; returns the policy."""
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")  # just generated
    monkeypatch.setenv("VPO_INTEGRATIONS_RADARR_URL", radarr.url)
    monkeypatch.setenv("VPO_INTEGRATIONS_RADARR_API_KEY", radarr.api_key)
    monkeypatch.setenv("VPO_INTEGRATIONS_RADARR_PATH_MAP", f"/movies={tmp_path / 'films'}")
    policy = tmp_path / "original.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return policy


def vpo(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [args[0], "--db", str(tmp_path / "lib.db"), *args[1:]])


def summary(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)["summary"]
    return data


def test_original_language_keeps_the_right_tracks_for_three_films_in_one_batch(
    configured: Path, films: dict[str, Path], radarr: ArrStandIn, tmp_path: Path
) -> None:
    done = vpo(tmp_path, "process", "-p", str(configured), "--json", str(tmp_path / "films"))
    assert done.exit_code == ExitCode.OK, done.stderr
    assert {name: audio(path) for name, path in films.items()} == KEPT
    assert {name: default_audio(path) for name, path in films.items()} == {
        "Spirited Away (2001)": "jpn",
        "Amelie (2001)": "fre",
        "Das Boot (1981)": "ger",
    }
    assert summary(done)["changed"] == 3
    # The whole catalogue once for the batch, not once per file.
    assert (radarr.requests["/api/v3/movie"], radarr.requests["/api/v3/tag"]) == (1, 1)
    assert radarr.count() == 2
    with Library.open(tmp_path / "lib.db") as library:
        stored = library.metadata_for(list(films.values()))
    assert {name: stored[path].original_language for name, path in films.items()} == {
        "Spirited Away (2001)": "jpn",
        "Amelie (2001)": "fre",
        "Das Boot (1981)": "ger",
    }

    again = vpo(tmp_path, "process", "-p", str(configured), "--json", str(tmp_path / "films"))
    assert again.exit_code == ExitCode.OK, again.stderr
    assert (summary(again)["changed"], summary(again)["unchanged"]) == (0, 3)
    assert radarr.count() == 2  # every title is stored: Radarr is not asked again


def test_a_dry_run_asks_but_stores_nothing(
    configured: Path, films: dict[str, Path], radarr: ArrStandIn, tmp_path: Path
) -> None:
    Library.open(tmp_path / "lib.db").close()  # an empty library: a dry run only reads it
    planned = vpo(
        tmp_path, "process", "-p", str(configured), "--dry-run", "--json", str(tmp_path / "films")
    )
    assert planned.exit_code == ExitCode.OK, planned.stderr
    kinds = {Path(f["path"]).parent.name: f["kind"] for f in json.loads(planned.stdout)["files"]}
    assert kinds == dict.fromkeys(FILMS, "remux")  # each loses its third audio track
    assert radarr.count() == 2
    with Library.open(tmp_path / "lib.db") as library:
        assert library.metadata_for(list(films.values())) == {}


def test_an_unreachable_radarr_is_one_warning_and_the_files_are_still_processed(
    configured: Path, films: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_arr(ArrStandIn()) as gone:
        url = gone.url  # nothing listens there any more
    monkeypatch.setenv("VPO_INTEGRATIONS_RADARR_URL", url)
    done = vpo(tmp_path, "process", "-p", str(configured), "--json", str(tmp_path / "films"))
    assert done.exit_code == ExitCode.OK, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "Radarr" in line]
    assert len(warnings) == 1, done.stderr
    assert warnings[0].startswith(f"vpo: Radarr at {url} is unreachable")
    assert warnings[0].endswith("files go on without Radarr metadata")
    assert "Traceback" not in done.stderr
    # No metadata: the original is unknown, the filter is skipped, all audio kept.
    assert {name: audio(path) for name, path in films.items()} == {
        name: list(languages) for name, (_, languages) in FILMS.items()
    }


def test_scan_fetches_new_titles_and_refresh_asks_again(
    configured: Path, films: dict[str, Path], radarr: ArrStandIn, tmp_path: Path
) -> None:
    first = vpo(tmp_path, "scan", "--json", str(tmp_path / "films"))
    assert first.exit_code == ExitCode.OK, first.stderr
    assert json.loads(first.stdout)["metadata"] == {"linked": 3, "titles": 3, "requests": 2}
    again = vpo(tmp_path, "scan", str(tmp_path / "films"))
    assert again.exit_code == ExitCode.OK, again.stderr
    assert again.stdout.splitlines()[-1] == (
        "Metadata: 0 files linked to 0 Sonarr/Radarr titles (0 requests)"
    )
    radarr.films[0] = Film(1, "Spirited Away", 2001, "English", radarr.films[0].file)
    refreshed = vpo(tmp_path, "scan", "--refresh-metadata", "--json", str(tmp_path / "films"))
    assert json.loads(refreshed.stdout)["metadata"]["linked"] == 3
    with Library.open(tmp_path / "lib.db") as library:
        path = films["Spirited Away (2001)"]
        assert library.metadata_for([path])[path].original_language == "eng"
    assert radarr.requests["/api/v3/movie"] == 2


def test_the_hook_fetches_its_film_by_id_and_processes_it_with_the_metadata(
    configured: Path, films: dict[str, Path], radarr: ArrStandIn, tmp_path: Path
) -> None:
    """``vpo hook radarr`` as Radarr runs it (its variables only; no daemon runs)."""
    name = "Amelie (2001)"
    env = {
        **{k: v for k, v in os.environ.items() if not k.lower().startswith("radarr_")},
        "VPO_CONFIG": str(tmp_path / "config.toml"),
        "VPO_LIBRARY_DATABASE": str(tmp_path / "lib.db"),
        "VPO_SERVER_BACKUP_KEEP": "0",
        "VPO_INTEGRATIONS_RADARR_POLICY": str(configured),
        "radarr_eventtype": "Download",
        "radarr_isupgrade": "False",
        "radarr_movie_id": "2",
        "radarr_movie_title": "Amelie",
        "radarr_movie_path": f"/movies/{name}",
        "radarr_moviefile_id": "20",
        "radarr_moviefile_relativepath": f"{name}.mkv",
        "radarr_moviefile_path": f"/movies/{name}/{name}.mkv",
    }
    done = subprocess.run(
        [str(VPO), "hook", "radarr"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert audio(films[name]) == ["fre", "eng"]
    assert radarr.requests["/api/v3/movie/2"] == 1
    assert radarr.count() == 2  # that film and the tags: not the whole catalogue


def test_inspect_shows_the_stored_metadata(
    configured: Path, films: dict[str, Path], radarr: ArrStandIn, tmp_path: Path
) -> None:
    path = films["Amelie (2001)"]
    radarr.films[1] = Film(2, "Amélie\n\x1b[31mforged", 2001, "French", radarr.films[1].file)
    vpo(tmp_path, "scan", str(tmp_path / "films"))
    shown = CliRunner().invoke(
        cli, ["inspect", str(path)], env={"VPO_LIBRARY_DATABASE": str(tmp_path / "lib.db")}
    )
    assert shown.exit_code == ExitCode.OK, shown.stderr
    (line,) = [text for text in shown.stdout.splitlines() if text.startswith("Radarr:")]
    assert line == (
        "Radarr: Amélie\\n\\x1b[31mforged (2001); original language fre; "
        "physical release 2001-09-01; in cinemas 2001-03-01"
    )
    document = CliRunner().invoke(
        cli,
        ["inspect", "--json", str(path)],
        env={"VPO_LIBRARY_DATABASE": str(tmp_path / "lib.db")},
    )
    (entry,) = json.loads(document.stdout)["files"][0]["metadata"]
    assert (entry["source"], entry["original_language"], entry["year"]) == ("radarr", "fre", 2001)


def test_a_sonarr_episode_and_the_films_in_one_batch(
    configured: Path,
    films: dict[str, Path],
    media_factory: MediaFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An anime episode (English first) known to Sonarr, beside Radarr's films."""
    episode = media_factory(spec(("eng", "jpn", "ger")), "series/Frieren/Season 01/e01.mkv")
    show = Show(
        7,
        "Frieren",
        2023,
        "/tv/Frieren",
        (Episode(1, 1, "The Journey's End", "2023-09-29", "/tv/Frieren/Season 01/e01.mkv"),),
        language="Japanese",
    )
    with serve_arr(ArrStandIn(shows=[show])) as sonarr:
        monkeypatch.setenv("VPO_INTEGRATIONS_SONARR_URL", sonarr.url)
        monkeypatch.setenv("VPO_INTEGRATIONS_SONARR_API_KEY", sonarr.api_key)
        monkeypatch.setenv("VPO_INTEGRATIONS_SONARR_PATH_MAP", f"/tv={tmp_path / 'series'}")
        done = vpo(
            tmp_path,
            "process",
            "-p",
            str(configured),
            "--json",
            str(tmp_path / "films"),
            str(tmp_path / "series"),
        )
        assert done.exit_code == ExitCode.OK, done.stderr
        assert audio_tracks(episode) == [("eng", False), ("jpn", True)]
        assert {name: audio(path) for name, path in films.items()} == KEPT
        # The series list, its episode files and episodes, the tags: once each.
        assert sonarr.count() == 4
        again = vpo(tmp_path, "process", "-p", str(configured), "--json", str(tmp_path / "series"))
        assert summary(again)["unchanged"] == 1
        assert sonarr.count() == 4


class _Quiet:
    def progress(self, progress: object) -> None:
        """Not needed here."""

    def file_result(self, data: dict[str, object]) -> None:
        """Not needed here."""


def test_a_job_of_vpo_serve_fetches_the_titles_before_its_batch(
    configured: Path, films: dict[str, Path], radarr: ArrStandIn, tmp_path: Path
) -> None:
    """The daemon's job runner (vpo serve, vpo watch) uses the same lookup."""
    from datetime import datetime

    from vpo.config.models import ArrConfig, IntegrationsConfig, JobsConfig, VPOConfig
    from vpo.jobs.execute import JobEnvironment, run_job
    from vpo.jobs.limits import StartGate
    from vpo.jobs.model import JobLimits, JobType, NewJob
    from vpo.tools.locate import locate_tools

    config = VPOConfig(
        jobs=JobsConfig(stable_seconds=0),
        integrations=IntegrationsConfig(
            radarr=ArrConfig(
                url=radarr.url,
                api_key=radarr.api_key,
                path_map=(f"/movies={tmp_path / 'films'}",),
            )
        ),
    )
    text = configured.read_text(encoding="utf-8")
    with Library.open(tmp_path / "lib.db") as library:
        job = library.jobs.add(
            NewJob(
                type=JobType.PROCESS,
                paths=[str(tmp_path / "films")],
                policy_name="original.yaml",
                policy_text=text,
            )
        )
        outcome = run_job(
            job,
            text,
            JobEnvironment(library, config, locate_tools()),
            gate=StartGate(None, JobLimits(), datetime.now),
            stop=threading.Event(),
            observer=_Quiet(),
        )
    assert outcome.counts["changed"] == 3, outcome
    assert {name: audio(path) for name, path in films.items()} == KEPT
    assert radarr.count() == 2


def test_the_original_language_example_on_the_demo_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15's "Done when": examples/policies/original-language.yaml on the demo
    library, Radarr knowing three films (English, French, German originals) and
    Sonarr the anime series (Japanese, tagged anime), both seeing the library under
    another mount point. Files they do not know keep every language."""
    library = tmp_path / "demo"
    build_demo_library(library, locate_tools())
    theirs = "/data/media"
    films = [
        Film(1, "The Long Voyage", 2019, "English", "Movies/The Long Voyage (2019)"),
        Film(2, "Le Café des Étoiles", 2001, "French", "Movies/Le Café des Étoiles (2001)"),
        Film(3, "Die Brücke", 1959, "German", "Movies/Die Brücke (1959)"),
    ]
    films = [
        replace(film, file=f"{theirs}/{film.file}/{film.file.split('/')[1]}.mkv") for film in films
    ]
    anime = f"{theirs}/Anime/Kaze no Tani (風の谷)"
    show = Show(
        5,
        "Kaze no Tani",
        2020,
        anime,
        (Episode(1, 1, "Kaze", "2020-01-01", f"{anime}/Kaze no Tani - 01.mkv"),),
        language="Japanese",
        tags=(1,),
    )
    unknown = [p for p in library.rglob("*") if p.is_file() and "Night Shift" in str(p)]
    unknown += [next(library.rglob("*.mp4")), next(library.rglob("*.webm"))]
    before = {path: audio_languages(path) for path in unknown}
    with (
        serve_arr(ArrStandIn(films=films)) as radarr,
        serve_arr(ArrStandIn(shows=[show], tags={1: "anime"})) as sonarr,
    ):
        for name, server in (("RADARR", radarr), ("SONARR", sonarr)):
            monkeypatch.setenv(f"VPO_INTEGRATIONS_{name}_URL", server.url)
            monkeypatch.setenv(f"VPO_INTEGRATIONS_{name}_API_KEY", server.api_key)
            monkeypatch.setenv(f"VPO_INTEGRATIONS_{name}_PATH_MAP", f"{theirs}={library}")
        monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")
        policy = str(EXAMPLES / "original-language.yaml")
        done = vpo(tmp_path, "process", "-p", policy, "--json", str(library))
        assert done.exit_code == ExitCode.OK, done.stderr
        movies = library / "Movies"
        assert audio_tracks(movies / "The Long Voyage (2019)" / "The Long Voyage (2019).mkv") == [
            ("eng", True),
            ("eng", False),  # the commentary; Spanish is gone
        ]
        assert audio_tracks(
            movies / "Le Café des Étoiles (2001)" / "Le Café des Étoiles (2001).mkv"
        ) == [("fre", True)]
        # German original: no English track but the commentary, so German is the default
        assert audio_tracks(movies / "Die Brücke (1959)" / "Die Brücke (1959).mkv") == [
            ("ger", True),
            ("eng", False),
        ]
        # anime: the original is the default, the English dub stays
        assert audio_tracks(
            Path(anime.replace(theirs, str(library))) / "Kaze no Tani - 01.mkv"
        ) == [
            ("eng", False),
            ("jpn", True),
        ]
        assert {path: audio_languages(path) for path in unknown} == before
        asked = {"radarr": dict(radarr.requests), "sonarr": dict(sonarr.requests)}
        again = vpo(tmp_path, "process", "-p", policy, "--json", str(library))
        assert again.exit_code == ExitCode.OK, again.stderr
        assert summary(again)["changed"] == 0  # converged
        # Known titles are stored: only the catalogues are asked again, for the files
        # neither program knows (they may have been added since).
        more = {
            name: {path: n - asked[name].get(path, 0) for path, n in server.requests.items()}
            for name, server in (("radarr", radarr), ("sonarr", sonarr))
        }
        assert {name: {p: n for p, n in paths.items() if n} for name, paths in more.items()} == {
            "radarr": {"/api/v3/movie": 1, "/api/v3/tag": 1},
            "sonarr": {"/api/v3/series": 1, "/api/v3/tag": 1},
        }
