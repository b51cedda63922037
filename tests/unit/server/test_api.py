"""Every endpoint of /api/v1: status codes, pagination bounds, filters, validation errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vpo.jobs.model import JobStatus, JobType, NewJob
from vpo.library.jobs import PlanItem
from vpo.library.records import FileOutcome, FileRecord, RunCounts
from vpo.media.model import Container
from vpo.policy.loader import PolicyError, load_policy

from .conftest import VALID_POLICY, Api, media

JSON = {"content-type": "application/json"}


def test_health_reports_queue_and_version(api: Api) -> None:
    answer = api.client.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "version": answer.json()["version"],
        "queue_length": 0,
        "running_jobs": [],
    }


def test_openapi_document_lists_every_endpoint(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    paths = set(document["paths"])
    assert {
        "/api/v1/health",
        "/api/v1/library",
        "/api/v1/files",
        "/api/v1/files/{file_id}",
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/cancel",
        "/api/v1/jobs/{job_id}/retry",
        "/api/v1/policies",
        "/api/v1/policies/{name}",
        "/api/v1/policies/validate",
        "/api/v1/plans",
        "/api/v1/plans/{job_id}",
        "/api/v1/plans/{job_id}/approve",
        "/api/v1/plans/{job_id}/reject",
        "/api/v1/events",
    } <= paths
    assert "JobRequest" in document["components"]["schemas"]  # the model itself, not a copy


# ------------------------------------------------------------------ library


def fill(api: Api) -> None:
    api.library.record_probe(media(api.root / "a.mkv", audio=("eng", "fre")), 1)
    api.library.record_probe(
        media(api.root / "b.mp4", container=Container.MP4, video_codec="hevc", height=2160), 1
    )
    api.library.record_probe(media(api.root / "c.mkv", height=480, audio=("jpn",)), 1)
    api.library.record_probe(media(api.root / "sub/d.mkv", subtitles=("eng",)), 1)


def paths_of(answer: dict[str, object]) -> list[str]:
    return [Path(str(item["path"])).name for item in answer["items"]]  # type: ignore[attr-defined,index]


def test_library_totals(api: Api) -> None:
    fill(api)
    answer = api.client.get("/api/v1/library").json()
    assert answer["files"] == 4
    assert answer["total_bytes"] == 4000
    assert answer["by_container"] == {"mkv": 3, "mp4": 1}
    assert answer["by_video_codec"] == {"h264": 3, "hevc": 1}
    assert answer["never_processed"] == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["a.mkv", "b.mp4", "c.mkv", "d.mkv"]),
        ("path=sub/d", ["d.mkv"]),
        ("container=mp4", ["b.mp4"]),
        ("video_codec=hevc", ["b.mp4"]),
        ("audio_language=fre", ["a.mkv"]),
        ("no_audio_language=eng", ["c.mkv"]),
        ("subtitle_language=eng", ["d.mkv"]),
        ("no_subtitle_language=eng", ["a.mkv", "b.mp4", "c.mkv"]),
        ("resolution=uhd", ["b.mp4"]),
        ("resolution=sd", ["c.mkv"]),
        ("resolution=fhd&audio_language=eng", ["a.mkv", "d.mkv"]),
        ("never_processed=true", ["b.mp4", "c.mkv", "d.mkv"]),
        ("last_failed=true", ["a.mkv"]),
    ],
)
def test_file_filters(api: Api, query: str, expected: list[str]) -> None:
    fill(api)
    run = api.library.start_run(policy_name="p", policy_hash="h", workers=1)
    api.library.record_file_result(run, FileRecord(api.root / "a.mkv", FileOutcome.FAILED))
    answer = api.client.get(f"/api/v1/files?{query}")
    assert answer.status_code == 200
    assert paths_of(answer.json()) == expected
    assert answer.json()["total"] == len(expected)


def test_file_pages(api: Api) -> None:
    fill(api)
    answer = api.client.get("/api/v1/files?limit=2&offset=1").json()
    assert (paths_of(answer), answer["total"], answer["limit"], answer["offset"]) == (
        ["b.mp4", "c.mkv"],
        4,
        2,
        1,
    )
    assert api.client.get("/api/v1/files?offset=10").json()["items"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "limit=x", "resolution=8k"])
def test_page_bounds_and_bad_filters_are_422(api: Api, query: str) -> None:
    assert api.client.get(f"/api/v1/files?{query}").status_code == 422


def test_file_detail_has_tracks_and_history(api: Api) -> None:
    fill(api)
    run = api.library.start_run(policy_name="p", policy_hash="h", workers=1)
    api.library.record_file_result(
        run,
        FileRecord(api.root / "a.mkv", FileOutcome.CHANGED, changes=("audio #1: default on",)),
    )
    first = api.client.get("/api/v1/files?limit=1").json()["items"][0]
    detail = api.client.get(f"/api/v1/files/{first['id']}").json()
    assert [t["language"] for t in detail["media"]["tracks"]] == ["und", "eng", "fre"]
    assert detail["media"]["tracks"][1]["flags"]["default"] is False
    assert [h["changes"] for h in detail["history"]] == [["audio #1: default on"]]
    assert api.client.get("/api/v1/files/999").status_code == 404


def test_runs_and_run_results(api: Api) -> None:
    first = api.library.start_run(policy_name="p", policy_hash="h", workers=1, started_at=1)
    api.library.record_file_result(first, FileRecord(api.root / "a.mkv", FileOutcome.CHANGED))
    api.library.finish_run(first, RunCounts(changed=1))
    api.library.start_run(policy_name="q", policy_hash="h", workers=1, started_at=2)
    runs = api.client.get("/api/v1/runs?limit=1").json()
    assert (runs["total"], runs["items"][0]["policy_name"]) == (2, "q")
    detail = api.client.get(f"/api/v1/runs/{first}").json()
    assert detail["run"]["counts"]["changed"] == 1
    assert [r["outcome"] for r in detail["results"]] == ["changed"]
    assert api.client.get("/api/v1/runs/999").status_code == 404
    assert api.client.get("/api/v1/runs?limit=0").status_code == 422


# --------------------------------------------------------------------- jobs


def post_job(api: Api, **body: object) -> object:
    return api.client.post("/api/v1/jobs", json=body)


def test_create_and_read_a_job(api: Api) -> None:
    answer = post_job(api, type="process", policy="good", paths=[str(api.root)])
    assert answer.status_code == 201  # type: ignore[attr-defined]
    job = answer.json()  # type: ignore[attr-defined]
    assert (job["status"], job["policy_name"], job["paths"]) == (
        "queued",
        "good",
        [str(api.root)],
    )
    assert api.library.jobs.policy_text(job["id"]) == VALID_POLICY  # a snapshot
    assert api.client.get(f"/api/v1/jobs/{job['id']}").json()["id"] == job["id"]
    assert api.client.get("/api/v1/jobs/999").status_code == 404
    assert api.client.get("/api/v1/health").json()["queue_length"] == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"type": "process", "paths": ["{root}"]}, 422),  # no policy
        ({"type": "process", "policy": "missing", "paths": ["{root}"]}, 404),
        ({"type": "process", "policy": "../good", "paths": ["{root}"]}, 422),
        ({"type": "process", "policy": "good", "paths": []}, 422),
        ({"type": "bogus", "paths": ["{root}"]}, 422),
        ({"type": "scan", "paths": ["{root}"], "extra": 1}, 422),
        ({"type": "scan", "paths": ["relative/dir"]}, 403),
        ({"type": "scan", "paths": ["{outside}"]}, 403),
        ({"type": "scan", "paths": ["{root}/../outside"]}, 403),
        ({"type": "scan", "paths": ["{root}/a\u0000b"]}, 422),
        ({"type": "scan", "paths": ["{root}"], "priority": 1000}, 422),
    ],
)
def test_bad_job_requests(api: Api, body: dict[str, object], status: int) -> None:
    def fmt(value: object) -> object:
        if isinstance(value, str):
            return value.format(root=api.root, outside=api.outside)
        if isinstance(value, list):
            return [fmt(v) for v in value]
        return value

    answer = api.client.post("/api/v1/jobs", json={k: fmt(v) for k, v in body.items()})
    assert answer.status_code == status, answer.text
    assert api.library.jobs.page()[1] == 0


def test_a_symlink_inside_the_roots_cannot_lead_outside(api: Api) -> None:
    (api.root / "escape").symlink_to(api.outside)
    (api.outside / "x.mkv").write_bytes(b"")
    for path in (api.root / "escape", api.root / "escape" / "x.mkv"):
        answer = post_job(api, type="scan", paths=[str(path)])
        assert answer.status_code == 403  # type: ignore[attr-defined]
        assert "outside the library roots" in answer.json()["detail"]  # type: ignore[attr-defined]


def test_a_symlink_to_inside_is_stored_resolved(api: Api) -> None:
    (api.root / "films").mkdir()
    link = api.outside / "link"
    link.symlink_to(api.root / "films")
    answer = post_job(api, type="scan", paths=[str(link)])
    assert answer.status_code == 201  # type: ignore[attr-defined]
    assert answer.json()["paths"] == [str(api.root / "films")]  # type: ignore[attr-defined]


def test_job_list_filters_and_pages(api: Api) -> None:
    for _ in range(3):
        post_job(api, type="scan", paths=[str(api.root)])
    post_job(api, type="process", policy="good", paths=[str(api.root)])
    api.client.post("/api/v1/jobs/1/cancel")
    answer = api.client.get("/api/v1/jobs?limit=2").json()
    assert ([j["id"] for j in answer["items"]], answer["total"]) == ([4, 3], 4)
    scans = api.client.get("/api/v1/jobs?type=scan&status=queued").json()
    assert [j["id"] for j in scans["items"]] == [3, 2]
    assert api.client.get("/api/v1/jobs?status=nope").status_code == 422


def test_two_clients_cancelling_the_same_job(api: Api) -> None:
    job = post_job(api, type="scan", paths=[str(api.root)]).json()  # type: ignore[attr-defined]
    first = api.client.post(f"/api/v1/jobs/{job['id']}/cancel")
    second = api.client.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert (first.status_code, first.json()["status"]) == (200, "cancelled")
    assert second.status_code == 409
    assert second.json()["detail"] == f"job {job['id']} is cancelled: it cannot be cancelled"
    assert api.client.post("/api/v1/jobs/999/cancel").status_code == 404


def test_retry(api: Api) -> None:
    job = post_job(api, type="scan", paths=[str(api.root)]).json()  # type: ignore[attr-defined]
    assert api.client.post(f"/api/v1/jobs/{job['id']}/retry").status_code == 409
    api.client.post(f"/api/v1/jobs/{job['id']}/cancel")
    again = api.client.post(f"/api/v1/jobs/{job['id']}/retry")
    assert (again.status_code, again.json()["status"]) == (200, "queued")
    assert api.client.post("/api/v1/jobs/999/retry").status_code == 404


# ----------------------------------------------------------------- policies


def test_policy_list_and_read(api: Api) -> None:
    (api.policies / "other.yaml").write_text("schema_version: 12\nphases: []\n", encoding="utf-8")
    (api.policies / "notes.txt").write_text("not a policy", encoding="utf-8")
    listing = api.client.get("/api/v1/policies").json()
    assert ([p["name"] for p in listing["items"]], listing["total"]) == (["good", "other"], 2)
    assert api.client.get("/api/v1/policies?limit=1&offset=1").json()["items"][0]["name"] == "other"
    good = api.client.get("/api/v1/policies/good").json()
    assert (good["text"], good["valid"]) == (VALID_POLICY, True)
    assert api.client.get("/api/v1/policies/none").status_code == 404


@pytest.mark.parametrize("name", ["..", "a..b", ".hidden", "a%2Fb", "x" * 101])
def test_policy_names_cannot_escape_the_directory(api: Api, name: str) -> None:
    assert api.client.get(f"/api/v1/policies/{name}").status_code in (404, 422)
    answer = api.client.put(f"/api/v1/policies/{name}", json={"text": VALID_POLICY})
    assert answer.status_code in (404, 405, 422)
    assert sorted(p.name for p in api.policies.iterdir()) == ["good.yaml"]


def test_a_policy_symlink_leading_outside_is_refused(api: Api) -> None:
    secret = api.outside / "secret.yaml"
    secret.write_text(VALID_POLICY, encoding="utf-8")
    (api.policies / "linked.yaml").symlink_to(secret)
    assert api.client.get("/api/v1/policies/linked").status_code == 403
    assert post_job(api, type="process", policy="linked", paths=[str(api.root)]).status_code == 403  # type: ignore[attr-defined]


def test_put_stores_a_valid_policy_with_its_comments(api: Api) -> None:
    text = VALID_POLICY.replace("# kept too", "# changed comment")
    answer = api.client.put("/api/v1/policies/new", json={"text": text})
    assert (answer.status_code, answer.json()["valid"]) == (200, True)
    assert (api.policies / "new.yaml").read_text(encoding="utf-8") == text


def test_put_refuses_an_invalid_policy_with_the_validate_messages(api: Api) -> None:
    bad = "schema_version: 12\nphases:\n  - name: x\n    track_order: [vidoe]\n"
    answer = api.client.put("/api/v1/policies/good", json={"text": bad})
    assert answer.status_code == 422
    assert (api.policies / "good.yaml").read_text(encoding="utf-8") == VALID_POLICY  # untouched
    problems = answer.json()["problems"]
    # The same lines `vpo policy validate <policy_dir>/good.yaml` prints for that text.
    (api.policies / "good.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(api.policies / "good.yaml")
    assert [p["text"] for p in problems] == [str(issue) for issue in caught.value.issues]
    assert problems[0]["line"] == 4


def test_validate_returns_problems_with_lines(api: Api) -> None:
    ok = api.client.post("/api/v1/policies/validate", json={"text": VALID_POLICY}).json()
    assert (ok["valid"], ok["phases"]) == (True, ["order"])
    bad = api.client.post(
        "/api/v1/policies/validate", json={"text": "schema_version: 12\nphases: 3\n"}
    )
    assert bad.status_code == 200
    assert bad.json()["valid"] is False
    assert bad.json()["problems"][0]["line"] == 2
    assert api.client.post("/api/v1/policies/validate", json={}).status_code == 422


# -------------------------------------------------------------------- plans


def completed_plan(api: Api, media_file: Path, kind: str = "metadata") -> int:
    job = api.client.post("/api/v1/plans", json={"policy": "good", "paths": [str(api.root)]}).json()
    info = media_file.stat()
    api.library.jobs.add_plans(
        job["id"],
        [
            PlanItem(
                media_file,
                info.st_size,
                info.st_mtime_ns,
                info.st_ino,
                info.st_ctime_ns,
                kind,
                {"path": str(media_file)},
            )
        ],
    )
    api.library.jobs.claim_next()
    api.library.jobs.finish(job["id"], JobStatus.COMPLETED)
    return int(job["id"])


def test_plan_approve_makes_a_process_job_for_exactly_those_files(api: Api) -> None:
    film = api.root / "film.mkv"
    film.write_bytes(b"x")
    plan_id = completed_plan(api, film)
    plans = api.client.get(f"/api/v1/plans/{plan_id}").json()
    assert [item["path"] for item in plans["items"]] == [str(film)]
    approved = api.client.post(f"/api/v1/plans/{plan_id}/approve")
    assert approved.status_code == 201
    job = approved.json()
    assert (job["type"], job["options"]["files"], job["options"]["plan_job"]) == (
        "process",
        [str(film)],
        plan_id,
    )
    assert api.library.jobs.policy_text(job["id"]) == VALID_POLICY
    again = api.client.post(f"/api/v1/plans/{plan_id}/approve")
    assert again.status_code == 409
    assert api.client.post(f"/api/v1/plans/{plan_id}/reject").status_code == 409


def test_approve_is_refused_when_a_file_changed_since_planned(api: Api) -> None:
    film = api.root / "film.mkv"
    film.write_bytes(b"x")
    plan_id = completed_plan(api, film)
    film.write_bytes(b"changed by another program")
    answer = api.client.post(f"/api/v1/plans/{plan_id}/approve")
    assert answer.status_code == 409
    assert "changed since it was planned" in answer.json()["detail"]
    assert api.library.jobs.page(job_type=JobType.PROCESS)[1] == 0


def test_approve_refused_before_the_plan_is_done_and_reject(api: Api) -> None:
    job = api.client.post("/api/v1/plans", json={"policy": "good", "paths": [str(api.root)]})
    assert job.status_code == 201
    plan_id = job.json()["id"]
    assert api.client.post(f"/api/v1/plans/{plan_id}/approve").status_code == 409
    api.client.post(f"/api/v1/jobs/{plan_id}/cancel")
    film = api.root / "film.mkv"
    film.write_bytes(b"x")
    done = completed_plan(api, film)
    rejected = api.client.post(f"/api/v1/plans/{done}/reject")
    assert (rejected.status_code, rejected.json()["status"]) == (200, "cancelled")
    assert api.client.post(f"/api/v1/plans/{done}/approve").status_code == 409
    scan = api.library.jobs.add(NewJob(type=JobType.SCAN, paths=["/x"]))
    assert api.client.get(f"/api/v1/plans/{scan.id}").status_code == 404
    assert (
        api.client.post("/api/v1/plans", json={"policy": "good", "paths": ["/etc"]}).status_code
        == 403
    )


def test_nothing_to_approve(api: Api) -> None:
    film = api.root / "film.mkv"
    film.write_bytes(b"x")
    plan_id = completed_plan(api, film, kind="noop")
    answer = api.client.post(f"/api/v1/plans/{plan_id}/approve")
    assert (answer.status_code, answer.json()["detail"]) == (
        409,
        f"plan {plan_id} has nothing to change",
    )
    os.utime(film)  # a plan job for noop files never needs its stat keys


def test_library_totals_follow_every_commit(api: Api, tmp_path: Path) -> None:
    fill(api)
    assert api.client.get("/api/v1/library").json()["files"] == 4
    assert api.client.get("/api/v1/library").json()["files"] == 4  # cached
    from vpo.library import Library

    with Library.open(api.library.path) as other:  # another process, in effect
        other.record_probe(media(api.root / "e.mkv"), 1)
    assert api.client.get("/api/v1/library").json()["files"] == 5
    api.library.record_probe(media(api.root / "f.mkv"), 1)  # this process, another thread
    assert api.client.get("/api/v1/library").json()["files"] == 6
