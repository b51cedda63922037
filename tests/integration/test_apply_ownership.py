"""Owner, group, mode, ACLs, extended attributes and hard links of replaced files
(issue 10 items 3 and 5): carried over, or the file is refused before any work.

The shared-library cases run vpo's apply as another user: the test (root) forks,
the child drops to uid OTHER_UID with the library's group as a supplementary
group, and applies the plan; the file belongs to a third uid. Numeric ids need no
/etc/passwd entry, so nothing is added to the system.
"""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from vpo.apply.execute import apply_plan
from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile
from vpo.plan import Plan, RemovedTrack, identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs"
SETTINGS = ApplySettings(stable_seconds=0.0)
SPEC = MediaSpec(
    audio=(AudioSpec(default=True), AudioSpec(language="fre"), AudioSpec(language="ger")),
    subtitles=(SubtitleSpec(),),
)
VPO_UID = 47001  # who runs vpo
OWNER_UID = 47002  # who owns the shared files
LIBRARY_GID = 47010  # the group both are in; files are group-writable

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creating files of other users and switching to them needs root"
)


def remux_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    return replace(
        plan,
        tracks=plan.tracks[:2],
        removed=(RemovedTrack(2, "x"), RemovedTrack(3, "x"), RemovedTrack(4, "x")),
    )


def header_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    tracks = list(plan.tracks)
    tracks[2] = replace(tracks[2], language="spa")
    return replace(plan, tracks=tuple(tracks))


@pytest.fixture
def shared(media_factory: MediaFactory) -> Iterator[Path]:
    """A group-writable movie.mkv owned by OWNER_UID:LIBRARY_GID in a directory every
    user can write (tmp_path's parents are private to root)."""
    directory = Path(tempfile.mkdtemp(prefix="vpo-shared-", dir="/tmp"))
    try:
        directory.chmod(0o777)
        path = directory / "movie.mkv"
        shutil.copyfile(media_factory(SPEC), path)
        os.chown(path, OWNER_UID, LIBRARY_GID)
        path.chmod(0o664)
        os.utime(path, ns=(10**18, 10**18))
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def as_vpo_user(action: Callable[[], object]) -> tuple[str, str]:
    """Run ``action`` in a forked child as VPO_UID (groups: LIBRARY_GID); returns
    ("ok", "") or (exception type name, message)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        os.close(read_end)
        outcome: tuple[str, str] = ("ok", "")
        try:
            os.setgroups([LIBRARY_GID])
            os.setresgid(VPO_UID, VPO_UID, VPO_UID)
            os.setresuid(VPO_UID, VPO_UID, VPO_UID)
            action()
        except BaseException as error:
            outcome = (type(error).__name__, str(error))
        with os.fdopen(write_end, "wb") as stream:
            pickle.dump(outcome, stream)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    os.waitpid(pid, 0)
    result: tuple[str, str] = pickle.loads(data)
    return result


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@needs_root
def test_a_remux_of_another_users_shared_file_is_refused_before_any_work(
    shared: Path, tools: ToolPaths
) -> None:
    before = shared.stat()
    original = shared.read_bytes()
    plan = remux_plan(probe_matroska_headers(shared))
    kind, message = as_vpo_user(lambda: apply_plan(plan, tools, SETTINGS))
    assert (kind, message) == (
        "PreflightError",
        f"{shared}: owned by uid {OWNER_UID} gid {LIBRARY_GID}, vpo runs as uid {VPO_UID}: a "
        "rewritten file would be yours and its owner and group could not be carried over; "
        'not modified (set [jobs] replace = "copy" to write into the file itself, or run vpo '
        "as its owner or as root)",
    )
    after = shared.stat()
    assert (after.st_ino, after.st_uid, after.st_gid, after.st_mode) == (
        before.st_ino,
        OWNER_UID,
        LIBRARY_GID,
        before.st_mode,
    )
    assert shared.read_bytes() == original
    assert listing(shared.parent) == ["movie.mkv"]


@needs_root
def test_an_in_place_edit_that_cannot_keep_the_mtime_is_refused(
    shared: Path, tools: ToolPaths
) -> None:
    original = shared.read_bytes()
    plan = header_plan(probe_matroska_headers(shared))
    kind, message = as_vpo_user(lambda: apply_plan(plan, tools, SETTINGS))
    assert kind == "PreflightError"
    assert message.endswith(
        f"owned by uid {OWNER_UID}, vpo runs as uid {VPO_UID}: only the owner can keep its "
        "modification time; not modified (set [jobs] preserve_mtime = false to edit it anyway)"
    )
    assert shared.read_bytes() == original
    assert shared.stat().st_mtime_ns == 10**18
    assert listing(shared.parent) == ["movie.mkv"]


@needs_root
def test_an_in_place_edit_of_a_shared_file_keeps_owner_group_and_mode(
    shared: Path, tools: ToolPaths
) -> None:
    plan = header_plan(probe_matroska_headers(shared))
    settings = replace(SETTINGS, preserve_mtime=False)
    assert as_vpo_user(lambda: apply_plan(plan, tools, settings)) == ("ok", "")
    info = shared.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (
        OWNER_UID,
        LIBRARY_GID,
        0o664,
    )
    assert probe_matroska_headers(shared).tracks[2].language == "spa"
    assert listing(shared.parent) == ["movie.mkv"]


@needs_root
def test_a_failed_in_place_edit_of_a_shared_file_leaves_no_journal(
    shared: Path, tools: ToolPaths
) -> None:
    """Restoring cannot put the mtime back (only the owner may): it must still put
    the bytes back and drop the journal, never leave one that cannot be applied."""
    original = shared.read_bytes()
    plan = header_plan(probe_matroska_headers(shared))
    failing = replace(tools, mkvpropedit=str(STUBS / "fail"))
    settings = replace(SETTINGS, preserve_mtime=False)
    kind, message = as_vpo_user(lambda: apply_plan(plan, failing, settings))
    assert kind == "ToolError", message
    assert shared.read_bytes() == original
    assert listing(shared.parent) == ["movie.mkv"]


@needs_root
def test_root_carries_owner_group_and_mode_over_a_remux(shared: Path, tools: ToolPaths) -> None:
    before = shared.stat()
    outcome = apply_plan(remux_plan(probe_matroska_headers(shared)), tools, SETTINGS)
    after = shared.stat()
    assert after.st_ino != before.st_ino  # really rewritten
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (
        OWNER_UID,
        LIBRARY_GID,
        0o664,
    )
    assert after.st_mtime_ns == 10**18
    assert len(outcome.media.tracks) == 2


def test_extended_attributes_and_acls_survive_a_remux(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    try:
        os.setxattr(path, "user.vpo.test", b"tagged by the user")
    except OSError as error:
        pytest.skip(f"this file system has no user extended attributes: {error.strerror}")
    setfacl = shutil.which("setfacl")
    if setfacl is None:
        pytest.skip("setfacl missing: ./quickstart.sh test installs the acl package")
    subprocess.run([setfacl, "-m", f"u:{VPO_UID}:rw", str(path)], check=True)
    acl_before = subprocess.run(
        ["getfacl", "-c", str(path)], capture_output=True, check=True
    ).stdout
    before = path.stat()
    apply_plan(remux_plan(probe_matroska_headers(path)), tools, SETTINGS)
    assert path.stat().st_ino != before.st_ino
    assert os.getxattr(path, "user.vpo.test") == b"tagged by the user"
    acl_after = subprocess.run(["getfacl", "-c", str(path)], capture_output=True, check=True)
    assert acl_after.stdout == acl_before
    assert f"user:{VPO_UID}:rw-".encode() in acl_after.stdout
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(before.st_mode)


def test_a_hard_linked_file_is_refused_not_split(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    other = path.parent / "same-movie.mkv"
    other.hardlink_to(path)
    original = path.read_bytes()
    with pytest.raises(Exception, match="has 2 hard links: a rewrite would split them") as caught:
        apply_plan(remux_plan(probe_matroska_headers(path)), tools, SETTINGS)
    assert type(caught.value).__name__ == "PreflightError"
    assert path.stat().st_ino == other.stat().st_ino
    assert path.read_bytes() == original
    assert listing(path.parent) == ["movie.mkv", "same-movie.mkv"]


@needs_root
def test_with_replace_copy_a_shared_file_is_remuxed_in_its_own_inode(
    shared: Path, tools: ToolPaths
) -> None:
    before = shared.stat()
    plan = remux_plan(probe_matroska_headers(shared))
    settings = replace(SETTINGS, copy_back=True, preserve_mtime=False)
    assert as_vpo_user(lambda: apply_plan(plan, tools, settings)) == ("ok", "")
    after = shared.stat()
    assert (after.st_ino, after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (
        before.st_ino,
        OWNER_UID,
        LIBRARY_GID,
        0o664,
    )
    assert len(probe_matroska_headers(shared).tracks) == 2
    assert listing(shared.parent) == ["movie.mkv"]
