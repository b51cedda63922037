"""Custom-script variable sets exactly as Sonarr/Radarr send them (their CustomScript.cs;
names arrive lower-cased on Linux)."""

from __future__ import annotations

import pytest

from vpo.integrations.arr import (
    Arr,
    HookAction,
    HookEvent,
    map_path,
    parse_hook_env,
    parse_path_map,
    parse_webhook,
)

RADARR_DOWNLOAD = {
    "radarr_eventtype": "Download",
    "radarr_isupgrade": "True",
    "radarr_movie_id": "2173",
    "radarr_movie_title": "The French Dispatch",
    "radarr_movie_year": "2021",
    "radarr_movie_path": "/movies/The French Dispatch (2021)",
    "radarr_movie_imdbid": "tt8847712",
    "radarr_movie_tmdbid": "542178",
    "radarr_movie_in_cinemas_date": "10/22/2021 00:00:00",
    "radarr_movie_physical_release_date": "12/21/2021 00:00:00",
    "radarr_moviefile_id": "991",
    "radarr_moviefile_relativepath": "The French Dispatch (2021).mkv",
    "radarr_moviefile_path": "/movies/The French Dispatch (2021)/The French Dispatch (2021).mkv",
    "radarr_moviefile_quality": "Bluray-1080p",
    "radarr_moviefile_qualityversion": "1",
    "radarr_moviefile_releasegroup": "GRP",
    "radarr_moviefile_scenename": "The.French.Dispatch.2021.1080p.BluRay.x264-GRP",
    "radarr_moviefile_sourcepath": "/downloads/tfd/tfd.mkv",
    "radarr_moviefile_sourcefolder": "/downloads/tfd",
    "radarr_download_client": "qBittorrent",
    "radarr_download_client_type": "qBittorrent",
    "radarr_download_id": "ABCDEF0123",
    "radarr_deletedrelativepaths": "The French Dispatch (2021) 720p.mkv",
    "radarr_deletedpaths": "/movies/The French Dispatch (2021)/The French Dispatch (2021) 720p.mkv",
}
SONARR_DOWNLOAD = {
    "sonarr_eventtype": "Download",
    "sonarr_isupgrade": "False",
    "sonarr_series_id": "12",
    "sonarr_series_title": "Frieren",
    "sonarr_series_path": "/tv/Frieren",
    "sonarr_series_tvdbid": "424536",
    "sonarr_series_tvmazeid": "61372",
    "sonarr_series_imdbid": "tt22248376",
    "sonarr_series_type": "Anime",
    "sonarr_episodefile_id": "77",
    "sonarr_episodefile_episodecount": "1",
    "sonarr_episodefile_relativepath": "Season 1/Frieren - S01E01.mkv",
    "sonarr_episodefile_path": "/tv/Frieren/Season 1/Frieren - S01E01.mkv",
    "sonarr_episodefile_episodeids": "501",
    "sonarr_episodefile_seasonnumber": "1",
    "sonarr_episodefile_episodenumbers": "1",
    "sonarr_episodefile_episodeairdates": "2023-09-29",
    "sonarr_episodefile_episodeairdatesutc": "9/29/2023 2:00:00 PM",
    "sonarr_episodefile_episodetitles": "The Journey's End",
    "sonarr_episodefile_quality": "WEBDL-1080p",
    "sonarr_episodefile_qualityversion": "1",
    "sonarr_episodefile_releasegroup": "SubsPlease",
    "sonarr_episodefile_scenename": "",
    "sonarr_episodefile_sourcepath": "/downloads/frieren/01.mkv",
    "sonarr_episodefile_sourcefolder": "/downloads/frieren",
    "sonarr_download_client": "SABnzbd",
    "sonarr_download_id": "SABnzbd_nzo_1",
}


def test_radarr_download_of_an_upgrade() -> None:
    event = parse_hook_env(Arr.RADARR, RADARR_DOWNLOAD)
    assert event == HookEvent(
        Arr.RADARR,
        "Download",
        HookAction.PROCESS,
        ("/movies/The French Dispatch (2021)/The French Dispatch (2021).mkv",),
        replaced=("/movies/The French Dispatch (2021)/The French Dispatch (2021) 720p.mkv",),
        title="The French Dispatch",
        title_id=2173,  # radarr_movie_id: the film whose metadata is fetched
    )


def test_sonarr_download_with_mixed_case_names() -> None:
    environ = {key.replace("sonarr_", "Sonarr_"): value for key, value in SONARR_DOWNLOAD.items()}
    event = parse_hook_env(Arr.SONARR, environ)
    assert event.action is HookAction.PROCESS
    assert event.files == ("/tv/Frieren/Season 1/Frieren - S01E01.mkv",)
    assert (event.replaced, event.title, event.title_id) == ((), "Frieren", 12)


@pytest.mark.parametrize("arr", list(Arr))
def test_the_test_button(arr: Arr) -> None:
    assert parse_hook_env(arr, {f"{arr.value}_eventtype": "Test"}).action is HookAction.TEST


def test_radarr_rename() -> None:
    event = parse_hook_env(
        Arr.RADARR,
        {
            "radarr_eventtype": "Rename",
            "radarr_movie_id": "5",
            "radarr_movie_title": "Amélie",
            "radarr_movie_path": "/movies/Amelie (2001)",
            "radarr_moviefile_ids": "8,9",
            "radarr_moviefile_relativepaths": "Amelie (2001).mkv|Amelie (2001) cut.mkv",
            "radarr_moviefile_paths": "/movies/Amelie (2001)/Amelie (2001).mkv|"
            "/movies/Amelie (2001)/Amelie (2001) cut.mkv",
            "radarr_moviefile_previousrelativepaths": "a.mkv|b.mkv",
            "radarr_moviefile_previouspaths": "/movies/Amelie (2001)/a.mkv|"
            "/movies/Amelie (2001)/b.mkv",
        },
    )
    assert event.action is HookAction.RENAME
    assert event.previous == ("/movies/Amelie (2001)/a.mkv", "/movies/Amelie (2001)/b.mkv")
    assert event.files[1] == "/movies/Amelie (2001)/Amelie (2001) cut.mkv"


def test_sonarr_episode_file_delete() -> None:
    event = parse_hook_env(
        Arr.SONARR,
        {
            "sonarr_eventtype": "EpisodeFileDelete",
            "sonarr_episodefile_deletereason": "Upgrade",
            "sonarr_series_title": "Frieren",
            "sonarr_episodefile_path": "/tv/Frieren/Season 1/old.mkv",
        },
    )
    assert (event.action, event.files) == (HookAction.DELETE, ("/tv/Frieren/Season 1/old.mkv",))


@pytest.mark.parametrize("event", ["Grab", "HealthIssue", "MovieDelete", "ApplicationUpdate"])
def test_other_events_need_nothing(event: str) -> None:
    assert parse_hook_env(Arr.RADARR, {"radarr_eventtype": event}).action is HookAction.IGNORE


def test_not_called_by_the_program() -> None:
    with pytest.raises(ValueError, match="radarr_eventtype is not set: vpo hook radarr is meant"):
        parse_hook_env(Arr.RADARR, {"sonarr_eventtype": "Download"})


def test_download_without_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="Radarr sent Download without radarr_moviefile_path"):
        parse_hook_env(Arr.RADARR, {"radarr_eventtype": "Download"})


def test_path_maps_use_the_longest_whole_component_prefix() -> None:
    maps = parse_path_map(["/movies=/srv/films", "/movies/kids=/srv/kids"])
    assert map_path("/movies/A (2001)/a.mkv", maps) == "/srv/films/A (2001)/a.mkv"
    assert map_path("/movies/kids/b.mkv", maps) == "/srv/kids/b.mkv"
    assert map_path("/movies-old/c.mkv", maps) == "/movies-old/c.mkv"  # not a component match
    assert map_path("/tv/d.mkv", maps) == "/tv/d.mkv"


@pytest.mark.parametrize("entry", ["/movies", "movies=/srv", "/movies=srv", "=/srv"])
def test_malformed_path_maps(entry: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        parse_path_map([entry])


# Sonarr v4's "On Import Complete" (CustomScript.OnImportComplete): event type Download,
# every imported file of the release in pipe-separated plural variables, no singular path.
SONARR_IMPORT_COMPLETE = {
    "sonarr_eventtype": "Download",
    "sonarr_instancename": "Sonarr",
    "sonarr_applicationurl": "",
    "sonarr_series_id": "12",
    "sonarr_series_title": "Frieren",
    "sonarr_series_titleslug": "frieren",
    "sonarr_series_path": "/tv/Frieren",
    "sonarr_series_tvdbid": "424536",
    "sonarr_series_tvmazeid": "61372",
    "sonarr_series_tmdbid": "209867",
    "sonarr_series_imdbid": "tt22248376",
    "sonarr_series_type": "Anime",
    "sonarr_series_year": "2023",
    "sonarr_series_originallanguage": "jpn",
    "sonarr_series_genres": "Animation|Fantasy",
    "sonarr_series_tags": "anime",
    "sonarr_episodefile_ids": "77|78",
    "sonarr_episodefile_count": "2",
    "sonarr_episodefile_relativepaths": "Season 1/Frieren - S01E01.mkv|"
    "Season 1/Frieren - S01E02.mkv",
    "sonarr_episodefile_paths": "/tv/Frieren/Season 1/Frieren - S01E01.mkv|"
    "/tv/Frieren/Season 1/Frieren - S01E02.mkv",
    "sonarr_episodefile_episodeids": "501,502",
    "sonarr_episodefile_seasonnumber": "1",
    "sonarr_episodefile_episodenumbers": "1,2",
    "sonarr_episodefile_qualities": "WEBDL-1080p|WEBDL-1080p",
    "sonarr_episodefile_qualityversions": "1|1",
    "sonarr_episodefile_releasegroups": "SubsPlease|SubsPlease",
    "sonarr_episodefile_scenenames": "|",
    "sonarr_download_client": "SABnzbd",
    "sonarr_download_client_type": "SABnzbd",
    "sonarr_download_id": "SABnzbd_nzo_2",
    "sonarr_release_group": "SubsPlease",
    "sonarr_release_quality": "WEBDL-1080p",
    "sonarr_release_qualityversion": "1",
    "sonarr_release_indexer": "Nyaa",
    "sonarr_release_size": "2800000000",
    "sonarr_release_title": "[SubsPlease] Frieren - 01-02 (1080p)",
    "sonarr_release_releasetype": "MultiEpisode",
    "sonarr_sourcepath": "/downloads/frieren",
    "sonarr_sourcefolder": "/downloads",
    "sonarr_destinationpath": "/tv/Frieren/Season 1",
    "sonarr_destinationfolder": "/tv/Frieren",
}


def test_sonarr_import_complete_names_every_imported_file() -> None:
    event = parse_hook_env(Arr.SONARR, SONARR_IMPORT_COMPLETE)
    assert event.action is HookAction.PROCESS
    assert event.files == (
        "/tv/Frieren/Season 1/Frieren - S01E01.mkv",
        "/tv/Frieren/Season 1/Frieren - S01E02.mkv",
    )


def test_sonarr_import_complete_webhook_lists_episode_files() -> None:
    body = {
        "eventType": "Download",  # WebhookImportCompletePayload: EventType = Download
        "instanceName": "Sonarr",
        "series": {"id": 12, "title": "Frieren", "path": "/tv/Frieren", "tvdbId": 424536},
        "episodes": [{"id": 501, "episodeNumber": 1}, {"id": 502, "episodeNumber": 2}],
        "episodeFiles": [
            {"id": 77, "relativePath": "Season 1/e1.mkv", "path": "/tv/Frieren/Season 1/e1.mkv"},
            {"id": 78, "relativePath": "Season 1/e2.mkv", "path": "/tv/Frieren/Season 1/e2.mkv"},
        ],
        "release": {"releaseTitle": "[SubsPlease] Frieren - 01-02 (1080p)"},
        "downloadClient": "SABnzbd",
        "downloadClientType": "SABnzbd",
        "downloadId": "SABnzbd_nzo_2",
        "fileCount": 2,
        "sourcePath": "/downloads/frieren",
        "destinationPath": "/tv/Frieren/Season 1",
    }
    event = parse_webhook(Arr.SONARR, body)
    assert (event.action, event.title) == (HookAction.PROCESS, "Frieren")
    assert event.files == ("/tv/Frieren/Season 1/e1.mkv", "/tv/Frieren/Season 1/e2.mkv")
