"""The library schema as a list of versioned migrations.

A migration is applied once, inside one transaction, and recorded in
``schema_migrations``. Data migrations (ones that rewrite existing rows) get a
backup copy of the database first, taken with SQLite's online backup API.
Version 1 is the first schema; later versions are appended, never edited.
Version 2 adds ``ctime_ns`` to the cache key and the size/encode figures of
each processing record (rows written by version 1 get NULL: "unknown").
Version 3 stores paths normalised (merging duplicates, vpo.library.path_merge)
and records which vpo process owns a run, so runs whose vpo died are closed.
Version 4 adds the job queue of ``vpo serve``: jobs, the plans a plan job waits
with, and a job id on each processing run (a job's per-file results are its runs'
file_results).
Version 5 stores what Sonarr/Radarr know about titles (``arr_titles``: one row per
film or series) and which title each file belongs to (``arr_files``, by path,
with the episode's own fields), see vpo.library.metadata.
Version 6 keeps a per-file summary of the tracks and of the last processing
result on ``files`` (what the API's filters and file list read) and a covering
index over it: one narrow index scan per filtered page at 100,000 files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from vpo.library.path_merge import merge_duplicate_paths


@dataclass(frozen=True, slots=True)
class Migration:
    """One step from ``version - 1`` to ``version``."""

    version: int
    description: str
    statements: tuple[str, ...]
    rewrites_data: bool = False  # True: back the database up before applying
    # Python step run after the statements, in the same transaction (data rewrites
    # that need the file system, e.g. normalising paths).
    rewrite: Callable[[sqlite3.Connection], None] | None = None


MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  REAL NOT NULL
)
"""

_V1_FILES = """
CREATE TABLE files (
    id            INTEGER PRIMARY KEY,
    path          BLOB NOT NULL UNIQUE,      -- os.fsencode(path): any name round-trips
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER NOT NULL,
    inode         INTEGER,                   -- NULL when unknown: never a cache hit
    device        INTEGER,
    status        TEXT NOT NULL CHECK (status IN ('ok', 'error', 'missing')),
    last_error    TEXT,
    container     TEXT,
    format_name   TEXT,
    duration      REAL,
    bit_rate      INTEGER,
    title         TEXT,
    chapter_count INTEGER NOT NULL DEFAULT 0,
    probed_at     REAL,
    first_seen    REAL NOT NULL,
    updated_at    REAL NOT NULL
)
"""

_V1_FILES_INODE = "CREATE INDEX files_by_inode ON files (inode, device)"

_V1_TRACKS = """
CREATE TABLE tracks (
    file_id               INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    position              INTEGER NOT NULL,
    track_id              INTEGER NOT NULL,
    type                  TEXT NOT NULL,
    codec                 TEXT NOT NULL,
    language              TEXT NOT NULL,
    language_ietf         TEXT,
    title                 TEXT,
    flag_default          INTEGER NOT NULL,
    flag_forced           INTEGER NOT NULL,
    flag_hearing_impaired INTEGER NOT NULL,
    flag_visual_impaired  INTEGER NOT NULL,
    flag_commentary       INTEGER NOT NULL,
    flag_original         INTEGER NOT NULL,
    channels              INTEGER,
    channel_layout        TEXT,
    sample_rate           INTEGER,
    width                 INTEGER,
    height                INTEGER,
    frame_rate            REAL,
    bit_rate              INTEGER,
    uid                   INTEGER,
    PRIMARY KEY (file_id, position)
) WITHOUT ROWID
"""

_V1_ATTACHMENTS = """
CREATE TABLE attachments (
    file_id       INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    attachment_id INTEGER NOT NULL,
    file_name     TEXT NOT NULL,
    mime_type     TEXT,
    size          INTEGER,
    description   TEXT,
    PRIMARY KEY (file_id, position)
) WITHOUT ROWID
"""

_V1_RUNS = """
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    batch_id        TEXT NOT NULL UNIQUE,
    policy_name     TEXT,
    policy_hash     TEXT,
    started_at      REAL NOT NULL,
    finished_at     REAL,
    workers         INTEGER NOT NULL,
    outcome         TEXT NOT NULL
        CHECK (outcome IN ('running', 'completed', 'failed', 'interrupted')),
    files_changed   INTEGER NOT NULL DEFAULT 0,
    files_unchanged INTEGER NOT NULL DEFAULT 0,
    files_skipped   INTEGER NOT NULL DEFAULT 0,
    files_failed    INTEGER NOT NULL DEFAULT 0,
    bytes_written   INTEGER NOT NULL DEFAULT 0
)
"""

_V1_RUNS_STARTED = "CREATE INDEX runs_by_start ON runs (started_at)"

_V1_FILE_RESULTS = """
CREATE TABLE file_results (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    file_id        INTEGER REFERENCES files (id) ON DELETE SET NULL,
    path           BLOB NOT NULL,
    recorded_at    REAL NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('changed', 'unchanged', 'skipped', 'failed')),
    plan_kind      TEXT,
    tool           TEXT,
    phase          TEXT,
    before_summary TEXT,
    after_summary  TEXT,
    changes        TEXT NOT NULL DEFAULT '',
    bytes_written  INTEGER NOT NULL DEFAULT 0,
    seconds        REAL NOT NULL DEFAULT 0,
    error          TEXT
)
"""

_V1_FILE_RESULTS_INDEXES = (
    "CREATE INDEX file_results_by_run ON file_results (run_id)",
    "CREATE INDEX file_results_by_time ON file_results (recorded_at)",
    "CREATE INDEX file_results_by_file ON file_results (file_id)",
)

# ctime cannot be set by any user tool, so it catches an in-place edit that kept
# size, mtime (preserve_mtime) and inode. NULL (rows from version 1) is never a hit.
_V2_FILES_CTIME = "ALTER TABLE files ADD COLUMN ctime_ns INTEGER"

_V2_FILE_RESULTS_FIGURES = (
    "ALTER TABLE file_results ADD COLUMN original_size INTEGER",  # before the first change
    "ALTER TABLE file_results ADD COLUMN bytes_saved INTEGER",  # original - final; NULL: unknown
    "ALTER TABLE file_results ADD COLUMN encode_seconds REAL",  # NULL: no encode
    "ALTER TABLE file_results ADD COLUMN encode_speed REAL",  # media s per wall s
)

# Sum of the run's file_results.bytes_saved, kept up to date as records arrive
# (a crashed run still shows what it saved); NULL for runs recorded by version 1.
_V2_RUNS_SAVED = "ALTER TABLE runs ADD COLUMN bytes_saved INTEGER"

# "host boot-id pid start-ticks" of the vpo process running it (NULL: unknown, rows
# before version 3). A 'running' run whose owner is gone is closed as interrupted
# at the next start (vpo.library.liveness).
_V3_RUNS_OWNER = "ALTER TABLE runs ADD COLUMN owner TEXT"

# One row per job of vpo serve / vpo jobs. paths and options are JSON; the policy is
# a snapshot (text and hash) so a later edit of the file does not change a queued job.
_V4_JOBS = """
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    type         TEXT NOT NULL CHECK (type IN ('scan', 'process', 'plan')),
    dry_run      INTEGER NOT NULL DEFAULT 0,
    paths        TEXT NOT NULL,
    policy_name  TEXT,
    policy_text  TEXT,
    policy_hash  TEXT,
    options      TEXT NOT NULL DEFAULT '{}',
    priority     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL CHECK (status IN
        ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
    files_total  INTEGER,
    files_done   INTEGER NOT NULL DEFAULT 0,
    active       TEXT NOT NULL DEFAULT '{}',
    created_at   REAL NOT NULL,
    started_at   REAL,
    finished_at  REAL,
    error        TEXT
)
"""

_V4_JOBS_QUEUE = "CREATE INDEX jobs_by_queue ON jobs (status, priority DESC, id)"

# The per-file plans of a plan job, with the stat key they were made from: approval
# is refused when the file on disk no longer matches.
_V4_JOB_PLANS = """
CREATE TABLE job_plans (
    id        INTEGER PRIMARY KEY,
    job_id    INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    path      BLOB NOT NULL,
    size      INTEGER,
    mtime_ns  INTEGER,
    inode     INTEGER,
    ctime_ns  INTEGER,
    kind      TEXT,
    plan      TEXT NOT NULL
)
"""

_V4_JOB_PLANS_INDEX = "CREATE INDEX job_plans_by_job ON job_plans (job_id)"
_V4_RUNS_JOB = "ALTER TABLE runs ADD COLUMN job_id INTEGER REFERENCES jobs (id) ON DELETE SET NULL"
_V4_RUNS_JOB_INDEX = "CREATE INDEX runs_by_job ON runs (job_id)"

# The API filters and totals by track language, codec and height over the whole
# library; these covering indexes make each a range scan (docs/server.md, bench/api.py).
_V4_TRACK_INDEXES = (
    "CREATE INDEX tracks_by_language ON tracks (type, language, file_id)",
    "CREATE INDEX tracks_by_codec ON tracks (type, codec, file_id)",
    "CREATE INDEX tracks_by_height ON tracks (type, height, file_id)",
    "CREATE INDEX files_by_status ON files (status, container)",  # counts without the rows
)

# One film (Radarr) or series (Sonarr) as its program described it when fetched.
# tags, genres: JSON arrays of strings; release_dates: JSON [[kind, "YYYY-MM-DD"], ...].
_V5_ARR_TITLES = """
CREATE TABLE arr_titles (
    id                INTEGER PRIMARY KEY,
    source            TEXT NOT NULL CHECK (source IN ('radarr', 'sonarr')),
    their_id          INTEGER NOT NULL,     -- the movie or series id in their API
    title             TEXT,
    original_title    TEXT,
    year              INTEGER,
    original_language TEXT,                 -- ISO 639-2/B; NULL: unknown
    imdb_id           TEXT,
    tmdb_id           INTEGER,
    tvdb_id           INTEGER,
    tags              TEXT NOT NULL DEFAULT '[]',
    genres            TEXT NOT NULL DEFAULT '[]',
    release_dates     TEXT NOT NULL DEFAULT '[]',
    fetched_at        REAL NOT NULL,
    UNIQUE (source, their_id)
)
"""

# Which title a file belongs to, by the path vpo sees (a file need not be probed
# yet to have one); for Sonarr also the episode's title, numbers and air date.
_V5_ARR_FILES = """
CREATE TABLE arr_files (
    path          BLOB NOT NULL,            -- os.fsencode(path), as files.path
    source        TEXT NOT NULL CHECK (source IN ('radarr', 'sonarr')),
    title_id      INTEGER NOT NULL REFERENCES arr_titles (id) ON DELETE CASCADE,
    episode_title TEXT,
    season        INTEGER,
    episode       INTEGER,
    air_date      TEXT,
    linked_at     REAL NOT NULL,
    PRIMARY KEY (path, source)
)
"""

_V5_ARR_FILES_TITLE = "CREATE INDEX arr_files_by_title ON arr_files (title_id)"
# What the file list shows and filters on, kept on the file's row so a filtered page
# is one scan of a narrow index (files_browse) instead of subqueries over tracks.
# Written with the tracks by vpo.library.writes (rows.browse_row); the languages
# are every track's of that type in position order, between commas (",eng,jpn,").
# summary_exact = 0 (the default, and a file with several video tracks or a
# language holding a comma): the filters and the list read the tracks table instead.
_V6_FILES_SUMMARY = (
    "ALTER TABLE files ADD COLUMN video_codec TEXT",  # first video track's
    "ALTER TABLE files ADD COLUMN video_height INTEGER",  # first video track's
    "ALTER TABLE files ADD COLUMN audio_languages TEXT",
    "ALTER TABLE files ADD COLUMN subtitle_languages TEXT",
    "ALTER TABLE files ADD COLUMN summary_exact INTEGER NOT NULL DEFAULT 0",
    # outcome of the newest file_results row of this file; NULL: never processed
    "ALTER TABLE files ADD COLUMN last_outcome TEXT",
)

_V6_LISTED = (
    "(SELECT ',' || group_concat(l.language, ',') || ',' FROM (SELECT t.language FROM tracks t "
    "WHERE t.file_id = files.id AND t.type = '{type}' ORDER BY t.position) l)"
)
_V6_FILL_SUMMARY = f"""
UPDATE files SET
    video_codec = (SELECT t.codec FROM tracks t WHERE t.file_id = files.id
                   AND t.type = 'video' ORDER BY t.position LIMIT 1),
    video_height = (SELECT t.height FROM tracks t WHERE t.file_id = files.id
                    AND t.type = 'video' ORDER BY t.position LIMIT 1),
    audio_languages = {_V6_LISTED.format(type="audio")},
    subtitle_languages = {_V6_LISTED.format(type="subtitle")},
    summary_exact = NOT EXISTS (SELECT 1 FROM tracks t WHERE t.file_id = files.id AND (
        (t.type = 'video' AND t.position > (SELECT MIN(v.position) FROM tracks v
                                            WHERE v.file_id = files.id AND v.type = 'video'))
        OR (t.type IN ('audio', 'subtitle') AND instr(t.language, ',') > 0)))
"""

# The newest result (highest id) of a file, whichever statement adds, moves or
# deletes results (including ON DELETE SET NULL when a file is pruned).
_V6_LAST_OUTCOME = (
    "UPDATE files SET last_outcome = (SELECT r.outcome FROM file_results r "
    "WHERE r.file_id = files.id ORDER BY r.id DESC LIMIT 1) WHERE id = {file_id}"
)
_V6_FILL_LAST_OUTCOME = (
    "UPDATE files SET last_outcome = (SELECT r.outcome FROM file_results r "
    "WHERE r.file_id = files.id ORDER BY r.id DESC LIMIT 1)"
)
_V6_TRIGGERS = (
    "CREATE TRIGGER file_results_last_added AFTER INSERT ON file_results "
    f"WHEN NEW.file_id IS NOT NULL BEGIN {_V6_LAST_OUTCOME.format(file_id='NEW.file_id')}; END",
    "CREATE TRIGGER file_results_last_removed AFTER DELETE ON file_results "
    f"WHEN OLD.file_id IS NOT NULL BEGIN {_V6_LAST_OUTCOME.format(file_id='OLD.file_id')}; END",
    "CREATE TRIGGER file_results_last_changed AFTER UPDATE OF file_id, outcome ON file_results "
    f"BEGIN {_V6_LAST_OUTCOME.format(file_id='OLD.file_id')}; "
    f"{_V6_LAST_OUTCOME.format(file_id='NEW.file_id')}; END",
)

# Led by id: pages in id order and every filter read from the index alone.
_V6_BROWSE_INDEX = (
    "CREATE INDEX files_browse ON files (id, status, container, video_codec, video_height, "
    "summary_exact, last_outcome, audio_languages, subtitle_languages)"
)

# The container's global tags (container_metadata conditions), a JSON object per file.
# Rows probed before this version keep NULL: never a cache hit, so they are probed again.
_V7_FILES_TAGS = "ALTER TABLE files ADD COLUMN tags TEXT"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="files, tracks, attachments, processing runs and per-file records",
        statements=(
            _V1_FILES,
            _V1_FILES_INODE,
            _V1_TRACKS,
            _V1_ATTACHMENTS,
            _V1_RUNS,
            _V1_RUNS_STARTED,
            _V1_FILE_RESULTS,
            *_V1_FILE_RESULTS_INDEXES,
        ),
    ),
    Migration(
        version=2,
        description="ctime in the cache key; size, bytes saved and encode speed per record",
        statements=(_V2_FILES_CTIME, *_V2_FILE_RESULTS_FIGURES, _V2_RUNS_SAVED),
        # Only adds NULL columns, but it is the first change to a library that holds
        # users' history: a copy from before costs seconds and makes a downgrade possible.
        rewrites_data=True,
    ),
    Migration(
        version=3,
        description="paths stored absolute and normalised (duplicates merged); run owner",
        statements=(_V3_RUNS_OWNER,),
        rewrites_data=True,
        rewrite=merge_duplicate_paths,
    ),
    Migration(
        version=4,
        description="job queue of vpo serve: jobs, plans awaiting approval, job of each run; "
        "track indexes for the API's filters",
        statements=(
            _V4_JOBS,
            _V4_JOBS_QUEUE,
            _V4_JOB_PLANS,
            _V4_JOB_PLANS_INDEX,
            _V4_RUNS_JOB,
            _V4_RUNS_JOB_INDEX,
            *_V4_TRACK_INDEXES,
        ),
        rewrites_data=True,  # alters runs: keep a copy from before, as for version 2
    ),
    Migration(
        version=5,
        description="Sonarr/Radarr metadata: titles and the title of each file",
        statements=(_V5_ARR_TITLES, _V5_ARR_FILES, _V5_ARR_FILES_TITLE),
    ),
    Migration(
        version=6,
        description="per-file track summary and last outcome on files, covering index for "
        "the API's filtered pages",
        statements=(
            *_V6_FILES_SUMMARY,
            _V6_FILL_SUMMARY,
            _V6_FILL_LAST_OUTCOME,
            *_V6_TRIGGERS,
            _V6_BROWSE_INDEX,
        ),
        # Only adds columns derived from rows it leaves alone, in one transaction:
        # no copy (it would cost more than the migration at 100,000 files).
    ),
    Migration(
        version=7,
        description="container tags of each file (NULL until the file is probed again)",
        statements=(_V7_FILES_TAGS,),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version
