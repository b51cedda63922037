"""Every page of the web interface through the ASGI client: status, key content,
escaping of hostile names, pagination, the token session and the page headers."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from vpo.config.models import (
    ArrConfig,
    IntegrationsConfig,
    MediaServerConfig,
    NotificationsConfig,
)
from vpo.jobs.model import JobStatus
from vpo.library.jobs import PlanItem
from vpo.library.records import FileOutcome, FileRecord, RunCounts
from vpo.media.model import Track, TrackType

from .conftest import TOKEN, Api, ApiFactory, media

HOSTILE = "<script>alert(1)</script>"


def fill(api: Api) -> Path:
    hostile_path = api.root / f"{HOSTILE}.mkv"
    hostile = media(hostile_path, audio=("eng", "jpn"), subtitles=("eng",))
    titled = replace(
        hostile,
        tracks=(
            *hostile.tracks,
            Track(4, 4, TrackType.AUDIO, "aac", language="fre", title=HOSTILE),
        ),
    )
    api.library.record_probe(titled, 1)
    api.library.record_probe(media(api.root / "b.mkv", height=2160, video_codec="hevc"), 1)
    run = api.library.start_run(policy_name="good", policy_hash="h", workers=1, started_at=1)
    api.library.record_file_result(
        run, FileRecord(hostile_path, FileOutcome.CHANGED, changes=(f"title → {HOSTILE}",))
    )
    api.library.finish_run(run, RunCounts(changed=1), finished_at=2)
    return hostile_path


def file_id(api: Api, name: str) -> int:
    items = api.client.get("/api/v1/files", params={"path": name}).json()["items"]
    return int(items[0]["id"])


def assert_escaped(html: str) -> None:
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_dashboard(api: Api) -> None:
    fill(api)
    answer = api.client.get("/")
    assert answer.status_code == 200
    html = answer.text
    assert "<h1>Dashboard</h1>" in html
    assert "Files</dt><dd>2</dd>" in html
    assert 'href="/library?container=mkv"' in html
    assert "<svg" not in html or "<script" not in html.split("<svg", 1)[1]
    assert "Last runs" in html and ">good<" in html


def test_library_lists_searches_filters_and_escapes(api: Api) -> None:
    fill(api)
    html = api.client.get("/library").text
    assert "2 files" in html
    assert_escaped(html)
    found = api.client.get("/library", params={"q": "b.mkv"}).text
    assert "1 files" in found and "b.mkv" in found and "alert" not in found
    uhd = api.client.get("/library", params={"resolution": "uhd"}).text
    assert "b.mkv" in uhd and "alert" not in uhd
    no_jpn = api.client.get("/library", params={"no_audio_language": "jpn"}).text
    assert "b.mkv" in no_jpn and "alert" not in no_jpn
    never = api.client.get("/library", params={"never_processed": "true"}).text
    assert "b.mkv" in never and "alert" not in never


def test_library_pages_server_side(api: Api) -> None:
    for number in range(60):
        api.library.record_probe(media(api.root / f"f{number:02d}.mkv"), 1)
    first = api.client.get("/library").text
    assert "1–50 of 60" in first and "f49.mkv" in first and "f50.mkv" not in first
    assert 'href="/library?offset=50&amp;limit=50"' in first
    second = api.client.get("/library", params={"offset": 50}).text
    assert "51–60 of 60" in second and "f50.mkv" in second and "f49.mkv" not in second
    # a page never asks for more than the largest page size
    assert "1–50 of 60" in api.client.get("/library", params={"limit": 100000}).text


def test_file_page_shows_tracks_history_and_escapes(api: Api) -> None:
    fill(api)
    answer = api.client.get(f"/files/{file_id(api, 'alert')}")
    assert answer.status_code == 200
    html = answer.text
    assert_escaped(html)
    assert "<td>jpn</td>" in html and "<td>fre</td>" in html
    assert "changed" in html and "title → &lt;script&gt;" in html
    assert "Preview a policy on this file" in html and "<option>good</option>" in html
    assert api.client.get("/files/999").status_code == 404


def test_policies_list_and_editor(api: Api) -> None:
    html = api.client.get("/policies").text
    assert 'href="/policies?edit=good"' in html
    editor = api.client.get("/policies", params={"edit": "good"}).text
    assert "# kept: a comment on top" in editor  # the text as stored, comments included
    assert 'id="policy-text"' in editor and '<label for="policy-text">' in editor
    assert "Valid." in editor
    (api.policies / "bad.yaml").write_text("schema_version: 12\nphases: 3\n", encoding="utf-8")
    bad = api.client.get("/policies", params={"edit": "bad"}).text
    assert 'data-line="2"' in bad
    assert api.client.get("/policies", params={"edit": "../x"}).status_code == 422
    assert api.client.get("/policies", params={"edit": "nope"}).status_code == 404
    chosen = api.client.get("/policies", params=[("paths", f"{api.root}/a.mkv")]).text
    assert f"{api.root}/a.mkv" in chosen


def planned(api: Api, path: Path, document: dict[str, object]) -> int:
    job = api.client.post("/api/v1/plans", json={"policy": "good", "paths": [str(api.root)]}).json()
    info = path.stat()
    item = PlanItem(
        path, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns, "metadata", document
    )
    api.library.jobs.add_plans(job["id"], [item])
    api.library.jobs.claim_next()
    api.library.jobs.finish(job["id"], JobStatus.COMPLETED)
    return int(job["id"])


def test_plan_page_shows_before_after_and_approve(api: Api) -> None:
    path = api.root / f"{HOSTILE}.mkv"
    path.parent.mkdir(parents=True, exist_ok=True)  # "</script>" holds a slash
    path.write_bytes(b"x")
    track = {
        "position": 0,
        "source_index": 1,
        "type": "audio",
        "codec": "aac",
        "language": "jpn",
        "title": HOSTILE,
        "flags": {"default": True},
        "encode": None,
    }
    document = {
        "path": str(path),
        "status": "planned",
        "kind": "metadata",
        "error": None,
        "phases": [
            {
                "name": "main",
                "outcome": "completed",
                "reason": None,
                "plan": {
                    "phase": "main",
                    "kind": "metadata",
                    "container": {"before": "matroska", "after": "matroska"},
                    "tracks": [track],
                    "removed": [{"source_index": 2, "reason": "language fre not wanted"}],
                    "removed_attachments": [],
                    "changes": [
                        {
                            "position": 0,
                            "source_index": 1,
                            "fields": {"default": {"before": False, "after": True}},
                        }
                    ],
                    "warnings": [],
                    "notes": [],
                },
            }
        ],
    }
    plan = planned(api, path, document)
    html = api.client.get(f"/plans/{plan}").text
    assert_escaped(html)
    assert "moved from #1; default: no → yes" in html
    assert "language fre not wanted" in html and 'class="removed"' in html
    assert f'data-approve="{plan}"' in html and f'data-reject="{plan}"' in html
    approved = api.client.post(f"/api/v1/plans/{plan}/approve").json()
    again = api.client.get(f"/plans/{plan}").text
    assert f'href="/jobs/{approved["id"]}"' in again and "data-approve" not in again
    assert api.client.get("/plans/999").status_code == 404


def test_jobs_and_job_pages(api: Api) -> None:
    job = api.client.post("/api/v1/jobs", json={"type": "scan", "paths": [str(api.root)]}).json()
    html = api.client.get("/jobs").text
    assert f'href="/jobs/{job["id"]}"' in html and "queued" in html
    assert "1 jobs" in api.client.get("/jobs", params={"status": "queued"}).text
    assert "0 jobs" in api.client.get("/jobs", params={"status": "failed"}).text
    detail = api.client.get(f"/jobs/{job['id']}").text
    assert f'data-cancel="{job["id"]}"' in detail and "data-retry" not in detail
    assert f'data-job-progress="{job["id"]}"' in detail
    api.client.post(f"/api/v1/jobs/{job['id']}/cancel")
    after = api.client.get(f"/jobs/{job['id']}").text
    assert f'data-retry="{job["id"]}"' in after and "data-cancel" not in after
    assert api.client.get("/jobs/999").status_code == 404


def test_settings_page(api: Api) -> None:
    html = api.client.get("/settings").text
    assert "[library]" in html and "roots" in html and "VPO_LIBRARY_ROOTS" in html
    assert str(api.policies) in html
    assert "Last backup" in html
    assert 'data-tool="mkvmerge"' in html  # versions come from GET /api/v1/tools
    tools = api.client.get("/api/v1/tools").json()
    assert [(t["name"], t["path"], t["state"]) for t in tools] == [
        (name, None, "missing") for name in ("ffprobe", "ffmpeg", "mkvmerge", "mkvpropedit")
    ]


def test_settings_page_hides_secrets(make_api: ApiFactory) -> None:
    api = make_api(
        notifications=NotificationsConfig(urls=("discord://1234/s3cret-webhook-token",)),
        integrations=IntegrationsConfig(
            radarr=ArrConfig(api_key="radarr-s3cret"),
            jellyfin=MediaServerConfig(url="http://jf:8096", token="jellyfin-s3cret"),
        ),
    )
    html = api.client.get("/settings").text
    assert "http://jf:8096" in html  # what is not a secret is shown
    for secret in ("s3cret-webhook-token", "radarr-s3cret", "jellyfin-s3cret"):
        assert secret not in html
    assert html.count("(set, not shown)") == 3


def test_pages_send_a_content_security_policy(api: Api) -> None:
    answer = api.client.get("/")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert api.client.get("/static/vpo.js").status_code == 200
    assert api.client.get("/static/vpo.css").status_code == 200


def test_token_asked_once_then_a_strict_session_cookie(make_api: ApiFactory) -> None:
    api = make_api(token=TOKEN)
    assert api.client.get("/library", follow_redirects=False).headers["location"] == "/login"
    assert api.client.get("/login").status_code == 200
    assert api.client.get("/api/v1/health").status_code == 401
    assert api.client.post("/login", json={"token": "wrong"}).status_code == 401
    answer = api.client.post("/login", json={"token": TOKEN})
    assert answer.status_code == 204
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN not in cookie
    assert api.client.get("/library").status_code == 200  # the client kept the cookie
    assert api.client.get("/api/v1/health").status_code == 200  # the browser's API calls too
    api.client.post("/logout")
    assert api.client.get("/library", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_login_and_api_refuse_cross_site_posts(make_api: ApiFactory, origin: str) -> None:
    api = make_api(token=TOKEN)
    answer = api.client.post("/login", json={"token": TOKEN}, headers={"origin": origin})
    assert answer.status_code == 403
    form = api.client.post(
        "/login",
        content=f"token={TOKEN}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415


def test_approve_a_selection_of_the_plans(api: Api) -> None:
    chosen, other = api.root / "a.mkv", api.root / "b.mkv"
    for path in (chosen, other):
        path.write_bytes(b"x")
    job = api.client.post("/api/v1/plans", json={"policy": "good", "paths": [str(api.root)]})
    plan = job.json()["id"]
    items = []
    for path in (chosen, other):
        info = path.stat()
        items.append(
            PlanItem(
                path,
                info.st_size,
                info.st_mtime_ns,
                info.st_ino,
                info.st_ctime_ns,
                "metadata",
                {"path": str(path)},
            )
        )
    api.library.jobs.add_plans(plan, items)
    api.library.jobs.claim_next()
    api.library.jobs.finish(plan, JobStatus.COMPLETED)
    html = api.client.get(f"/plans/{plan}").text
    assert html.count("data-approve-file") == 2 and f'data-approve-selected="{plan}"' in html
    stranger = api.client.post(
        f"/api/v1/plans/{plan}/approve", json={"files": [str(api.outside / "x.mkv")]}
    )
    assert stranger.status_code == 422
    approved = api.client.post(f"/api/v1/plans/{plan}/approve", json={"files": [str(chosen)]})
    assert approved.status_code == 201, approved.text
    assert approved.json()["options"]["files"] == [str(chosen)]
    assert approved.json()["paths"] == [str(chosen)]


def test_library_sorts_by_path_on_the_server(api: Api) -> None:
    for name in ("b.mkv", "c.mkv", "a.mkv"):
        api.library.record_probe(media(api.root / name), 1)

    def order(**params: str) -> list[str]:
        html = api.client.get("/library", params=params).text
        return list(re.findall(r">[^<>]*/([abc]\.mkv)</a>", html))

    assert order() == ["b.mkv", "c.mkv", "a.mkv"]  # by id: as scanned
    assert order(sort="path") == ["a.mkv", "b.mkv", "c.mkv"]
    assert order(sort="-path", q=".mkv") == ["c.mkv", "b.mkv", "a.mkv"]
    assert order(sort="size") == ["b.mkv", "c.mkv", "a.mkv"]  # not offered: by id
    html = api.client.get("/library", params={"sort": "path", "q": "mkv"}).text
    assert 'aria-sort="ascending"><a href="/library?q=mkv&amp;sort=-path">' in html
    listed = api.client.get("/api/v1/files", params={"sort": "-path"}).json()["items"]
    assert [Path(i["path"]).name for i in listed] == ["c.mkv", "b.mkv", "a.mkv"]
    assert api.client.get("/api/v1/files", params={"sort": "size"}).status_code == 422
