"""set_container_metadata for any tag: what evaluate() plans (pure)."""

from __future__ import annotations

from dataclasses import replace

from vpo.media.model import Container, container_tags
from vpo.policy.compose import compose_plans
from vpo.policy.evaluate import evaluate

from .conftest import Build

PHASE = """\
conditional:
  - name: tag
    when: {container_metadata: {field: comment, operator: neq, value: new}}
    then:
      - set_container_metadata: {field: COMMENT, value: new}
      - set_container_metadata: {field: director, value: Jane}
      - set_container_metadata: {field: encoder, value: ""}
"""


def test_matroska_takes_any_tag_and_converges(build: Build) -> None:
    phase, policy = build.phase(PHASE)
    source = build.media(build.track("video", "h264"))
    source = replace(source, tags=container_tags([("ENCODER", "Lavf")]))
    plan = evaluate(phase, source, policy.config)
    assert plan.tag_changes() == (
        ("comment", None, "new"),
        ("director", None, "Jane"),
        ("encoder", "Lavf", None),
    )
    assert plan.kind.value == "metadata"
    assert "set_container_metadata: encoder 'Lavf' → None" in plan.notes
    assert evaluate(phase, plan.expected_result(), policy.config).is_noop


def test_a_tag_the_container_cannot_hold_is_a_warning_not_a_change(build: Build) -> None:
    phase, policy = build.phase(PHASE)
    source = build.media(build.track("video", "h264"), container=Container.MP4, name="m.mp4")
    plan = evaluate(phase, source, policy.config)
    assert plan.tag_changes() == (("comment", None, "new"),)
    assert "set_container_metadata: MP4 cannot hold the tag 'director'; not changed" in (
        plan.warnings
    )
    assert not any("'encoder'" in w for w in plan.warnings)  # absent already: nothing to do
    assert evaluate(phase, plan.expected_result(), policy.config).is_noop


SETTER = """\
conditional:
  - name: set
    when: {not: {count: {track_type: audio, gte: 9}}}
    then:
      - set_container_metadata: {field: note, value: VALUE}
"""


def test_phases_compose_to_the_value_the_last_setter_left(build: Build) -> None:
    first, policy = build.phase(SETTER.replace("VALUE", "one"))
    second, _ = build.phase(SETTER.replace("VALUE", "two"))
    source = build.media(build.track("video", "h264"))
    one = evaluate(first, source, policy.config)
    two = evaluate(second, one.expected_result(), policy.config)
    composed = compose_plans([one, two])
    assert composed.tag_changes() == (("note", None, "two"),)
