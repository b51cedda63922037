"""The environment variables Radarr and Sonarr give a custom script, as the hook tests use them.

Their exact names (lower-cased, as on Linux), from Radarr's and Sonarr's CustomScript.cs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Film:
    """What Radarr knows of a film."""

    movie_id: str = "1"
    title: str = "Film"
    year: str = "2021"
    imdbid: str = "tt0000001"
    tmdbid: str = "11"
    in_cinemas: str = "10/22/2021 00:00:00"


@dataclass(frozen=True)
class Download:
    """What Radarr knows of the file it imported."""

    file_id: str = "3"
    source: str = "/downloads/film/film.mkv"  # where the download client put it
    download_id: str = "ABC"


def radarr_download(
    their_path: str, film: Film = Film(), download: Download = Download(), instance: str = ""
) -> dict[str, str]:
    """The variables Radarr's CustomScript.OnDownload sets for ``film`` imported at ``their_path``.

    ``instance`` (Radarr v5's instance name) adds v5's instance variables.
    """
    folder, _, name = their_path.rpartition("/")
    variables = {
        "radarr_eventtype": "Download",
        "radarr_isupgrade": "False",
        "radarr_movie_id": film.movie_id,
        "radarr_movie_title": film.title,
        "radarr_movie_year": film.year,
        "radarr_movie_path": folder,
        "radarr_movie_imdbid": film.imdbid,
        "radarr_movie_tmdbid": film.tmdbid,
        "radarr_movie_in_cinemas_date": film.in_cinemas,
        "radarr_movie_physical_release_date": "",
        "radarr_moviefile_id": download.file_id,
        "radarr_moviefile_relativepath": name,
        "radarr_moviefile_path": their_path,
        "radarr_moviefile_quality": "Bluray-1080p",
        "radarr_moviefile_qualityversion": "1",
        "radarr_moviefile_releasegroup": "",
        "radarr_moviefile_scenename": "",
        "radarr_moviefile_sourcepath": download.source,
        "radarr_moviefile_sourcefolder": download.source.rpartition("/")[0],
        "radarr_download_client": "qBittorrent",
        "radarr_download_client_type": "qBittorrent",
        "radarr_download_id": download.download_id,
    }
    if instance:
        variables.update({"radarr_instancename": instance, "radarr_applicationurl": ""})
    return variables


def sonarr_series(path: str = "/tv/Frieren") -> dict[str, str]:
    """The series variables every Sonarr v4 file event carries (CustomScript.cs)."""
    return {
        "sonarr_instancename": "Sonarr",
        "sonarr_applicationurl": "",
        "sonarr_series_id": "12",
        "sonarr_series_title": "Frieren",
        "sonarr_series_titleslug": "frieren",
        "sonarr_series_path": path,
        "sonarr_series_tvdbid": "424536",
        "sonarr_series_tvmazeid": "61372",
        "sonarr_series_imdbid": "tt22248376",
        "sonarr_series_type": "Anime",
    }


def sonarr_download(their_path: str, deleted: str | None = None) -> dict[str, str]:
    """Sonarr's OnDownload ("On Import" / "On Upgrade"): one episode file."""
    relative = their_path.removeprefix("/tv/Frieren/")
    variables = {
        "sonarr_eventtype": "Download",
        **sonarr_series(),
        "sonarr_isupgrade": str(deleted is not None),
        "sonarr_episodefile_id": "77",
        "sonarr_episodefile_episodecount": "1",
        "sonarr_episodefile_relativepath": relative,
        "sonarr_episodefile_path": their_path,
        "sonarr_episodefile_episodeids": "501",
        "sonarr_episodefile_seasonnumber": "1",
        "sonarr_episodefile_episodenumbers": "1",
        "sonarr_episodefile_episodeairdates": "2023-09-29",
        "sonarr_episodefile_episodeairdatesutc": "9/29/2023 2:00:00 PM",
        "sonarr_episodefile_episodetitles": "The Journey's End",
        "sonarr_episodefile_episodeoverviews": "",
        "sonarr_episodefile_quality": "WEBDL-1080p",
        "sonarr_episodefile_qualityversion": "1",
        "sonarr_episodefile_releasegroup": "SubsPlease",
        "sonarr_episodefile_scenename": "",
        "sonarr_episodefile_sourcepath": "/downloads/frieren/01.mkv",
        "sonarr_episodefile_sourcefolder": "/downloads/frieren",
        "sonarr_download_client": "SABnzbd",
        "sonarr_download_client_type": "SABnzbd",
        "sonarr_download_id": "SABnzbd_nzo_1",
        "sonarr_episodefile_mediainfo_audiochannels": "2",
        "sonarr_episodefile_mediainfo_audiocodec": "AAC",
        "sonarr_episodefile_mediainfo_audiolanguages": "French / English",
        "sonarr_episodefile_mediainfo_languages": "French / English",
        "sonarr_episodefile_mediainfo_height": "240",
        "sonarr_episodefile_mediainfo_width": "320",
        "sonarr_episodefile_mediainfo_subtitles": "",
        "sonarr_episodefile_mediainfo_videocodec": "h264",
        "sonarr_episodefile_mediainfo_videodynamicrangetype": "",
    }
    if deleted is not None:
        variables["sonarr_deletedrelativepaths"] = deleted.removeprefix("/tv/Frieren/")
        variables["sonarr_deletedpaths"] = deleted
        variables["sonarr_deleteddateadded"] = "12/1/2026 10:00:00 AM"
    return variables
