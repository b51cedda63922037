"""Encoder choice and encoder arguments (pure).

The plan says *what* (hevc at crf 22, preset slow); this module says *how* with the
encoders this machine's ffmpeg offers: ``ffmpeg -encoders`` and ``-hwaccels`` are
parsed here, listed once per run by vpo.tools.encoders_probe, which test-encodes
only the hardware encoders a plan would use (hardware_wanted).

Downmix: channel reduction uses ``-ac:N`` per output stream, which makes ffmpeg
insert ``aresample`` (libswresample) with its rematrix built from the *actual*
input layout: ITU-R BS.775 coefficients (centre and surrounds at -3 dB, LFE
dropped) for 5.1, 5.1(side), 6.1, 7.1 alike, normalised so nothing clips. A
``pan`` expression would have to be written per source layout and fails on a
channel name the source lacks (5.1 has BL/BR, 5.1(side) SL/SR).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from vpo.plan import AudioEncode, Hardware, RateControl, VideoEncode

SOFTWARE_VIDEO: dict[str, tuple[str, ...]] = {
    "hevc": ("libx265",),
    "h264": ("libx264",),
    "vp9": ("libvpx-vp9",),
    "av1": ("libsvtav1", "libaom-av1", "librav1e"),  # fastest first
}
AUDIO_ENCODERS: dict[str, tuple[str, ...]] = {
    "aac": ("aac", "libfdk_aac"),
    "ac3": ("ac3",),
    "eac3": ("eac3",),
    "opus": ("libopus", "opus"),
    "flac": ("flac",),
}
HARDWARE_ORDER = (Hardware.NVENC, Hardware.QSV, Hardware.VAAPI)
# hwaccel names (``ffmpeg -hwaccels``) each hardware family needs.
HWACCEL_OF = {Hardware.NVENC: "cuda", Hardware.QSV: "qsv", Hardware.VAAPI: "vaapi"}
VAAPI_DEVICE = "/dev/dri/renderD128"

# Quality used when a policy asks for crf without a number: each encoder's own
# middle-of-the-road default, passed explicitly so the argv says what happens.
DEFAULT_CRF = {
    "libx264": 23,
    "libx265": 28,
    "libvpx-vp9": 31,
    "libaom-av1": 30,
    "libsvtav1": 35,
    "librav1e": 100,
}
# x264-style preset names → the speed knob of the other encoders.
_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower")
_PRESETS_ALL = (*_PRESETS, "veryslow", "placebo")
_CPU_USED_VP9 = dict(zip(_PRESETS_ALL, (5, 5, 4, 4, 3, 2, 1, 0, 0, 0), strict=True))
_CPU_USED_AOM = dict(zip(_PRESETS_ALL, (8, 8, 7, 6, 5, 4, 3, 2, 1, 0), strict=True))
_SVT_PRESET = dict(zip(_PRESETS_ALL, (12, 11, 10, 9, 8, 6, 4, 3, 2, 1), strict=True))
_NVENC_PRESET = dict(
    zip(_PRESETS_ALL, ("p1", "p1", "p2", "p3", "p4", "p4", "p5", "p6", "p7", "p7"), strict=True)
)

_LISTING_LINE = re.compile(r"^\s*([VAS])[A-Z.]{5}\s+(\S+)\s")


class EncoderUnavailableError(ValueError):
    """No encoder on this machine can produce the codec as the policy asks."""


@dataclass(frozen=True, slots=True)
class EncoderInventory:
    """What this ffmpeg can encode with; ``working_hardware`` are hardware encoders
    that encoded a test frame (a listed nvenc encoder without a GPU does not)."""

    encoders: frozenset[str]
    hwaccels: frozenset[str] = frozenset()
    working_hardware: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class EncoderChoice:
    """The encoder for one track, and why when it is not the one asked for."""

    name: str
    hardware: Hardware = Hardware.NONE
    note: str | None = None


def parse_encoders(listing: str) -> frozenset[str]:
    """Encoder names from ``ffmpeg -encoders`` (lines like `` V....D libx264  …``)."""
    names: set[str] = set()
    in_table = False
    for line in listing.splitlines():
        if line.strip().startswith("------"):
            in_table = True
            continue
        match = _LISTING_LINE.match(line)
        if in_table and match and match.group(2) != "=":
            names.add(match.group(2))
    return frozenset(names)


def parse_hwaccels(listing: str) -> frozenset[str]:
    """Method names from ``ffmpeg -hwaccels`` (one per line after the heading)."""
    lines = [line.strip() for line in listing.splitlines()]
    return frozenset(line for line in lines if line and not line.endswith(":"))


def hardware_encoder_name(codec: str, hardware: Hardware) -> str:
    """``hevc`` + nvenc → ``hevc_nvenc`` (ffmpeg's naming for every family)."""
    return f"{codec}_{hardware.value}"


def hardware_wanted(
    videos: Iterable[tuple[str, VideoEncode]], listed: EncoderInventory
) -> tuple[tuple[str, ...], ...]:
    """Per planned video encode that asks for hardware, the listed hardware encoders
    choose_video_encoder would try, in its order (software-only encodes need none).

    Only these are worth a test frame: each group is tried until one works.
    """
    groups: list[tuple[str, ...]] = []
    for codec, video in videos:
        if video.hardware is Hardware.NONE:
            continue
        families = HARDWARE_ORDER if video.hardware is Hardware.AUTO else (video.hardware,)
        group = tuple(
            hardware_encoder_name(codec, family)
            for family in families
            if hardware_encoder_name(codec, family) in listed.encoders
            and HWACCEL_OF[family] in listed.hwaccels
        )
        if group and group not in groups:
            groups.append(group)
    return tuple(groups)


def hardware_candidates(inventory: EncoderInventory) -> tuple[str, ...]:
    """Listed hardware encoders whose hwaccel is also listed (worth a test frame)."""
    found: list[str] = []
    for codec in SOFTWARE_VIDEO:
        for hardware in HARDWARE_ORDER:
            name = hardware_encoder_name(codec, hardware)
            if name in inventory.encoders and HWACCEL_OF[hardware] in inventory.hwaccels:
                found.append(name)
    return tuple(found)


def choose_video_encoder(
    codec: str, video: VideoEncode, inventory: EncoderInventory
) -> EncoderChoice:
    """Hardware when asked for and working, else software when allowed."""
    wanted = HARDWARE_ORDER if video.hardware is Hardware.AUTO else (video.hardware,)
    if video.hardware is not Hardware.NONE:
        for hardware in wanted:
            name = hardware_encoder_name(codec, hardware)
            if name in inventory.working_hardware:
                return EncoderChoice(name, hardware)
        if not video.fallback_to_cpu:
            raise EncoderUnavailableError(
                f"no working {video.hardware.value} encoder for {codec} "
                "and fallback_to_cpu is false (see 'vpo doctor')"
            )
    software = _first_present(SOFTWARE_VIDEO.get(codec, ()), inventory)
    if software is None:
        raise EncoderUnavailableError(f"this ffmpeg has no encoder for {codec} (see 'vpo doctor')")
    note = None
    if video.hardware not in (Hardware.NONE, Hardware.AUTO):
        note = f"{video.hardware.value} unavailable for {codec}; encoding with {software}"
    return EncoderChoice(software, Hardware.NONE, note)


def choose_audio_encoder(codec: str, inventory: EncoderInventory) -> str:
    found = _first_present(AUDIO_ENCODERS.get(codec, (codec,)), inventory)
    if found is None:
        raise EncoderUnavailableError(f"this ffmpeg has no encoder for {codec} (see 'vpo doctor')")
    return found


def _first_present(names: tuple[str, ...], inventory: EncoderInventory) -> str | None:
    return next((name for name in names if name in inventory.encoders), None)


def video_encoder_args(
    choice: EncoderChoice,
    position: int,
    video: VideoEncode,
    *,
    pass_number: int | None = None,
    passlog: str | None = None,
) -> list[str]:
    """``-c:N encoder`` and every setting, for output stream ``position``."""
    name = choice.name
    args = [f"-c:{position}", name]
    filters = _video_filters(choice, video)
    if filters:
        args += [f"-filter:{position}", filters]
    args += _rate_args(name, position, video)
    args += _speed_args(name, position, video.preset)
    if video.tune and name in ("libx264", "libx265"):
        args += [f"-tune:{position}", video.tune]
    if name == "libx265":
        params = ["log-level=error"]
        if pass_number is not None and passlog is not None:
            params += [f"pass={pass_number}", f"stats={_x265_escape(passlog + '.x265')}"]
        args += [f"-x265-params:{position}", ":".join(params)]
    elif pass_number is not None and passlog is not None:
        args += [f"-pass:{position}", str(pass_number), f"-passlogfile:{position}", passlog]
    if name in ("libvpx-vp9", "libaom-av1"):
        args += [f"-row-mt:{position}", "1"]
    return args


def _x265_escape(path: str) -> str:
    """x265-params separates with ``:``; a path containing one must be escaped."""
    return path.replace("\\", "\\\\").replace(":", "\\:")


def _video_filters(choice: EncoderChoice, video: VideoEncode) -> str:
    steps: list[str] = []
    if video.width and video.height:
        steps.append(f"scale={video.width}:{video.height}:flags={video.scale_algorithm}")
    if choice.hardware is Hardware.VAAPI:
        steps += ["format=nv12", "hwupload"]
    return ",".join(steps)


def _rate_args(name: str, position: int, video: VideoEncode) -> list[str]:
    crf = video.crf if video.crf is not None else DEFAULT_CRF.get(name, 23)
    mode = video.rate_control
    quality = _quality_args(name, position, crf)
    if mode is RateControl.BITRATE:
        args = [f"-b:{position}", str(video.bitrate)]
        if video.min_bitrate:
            args += [f"-minrate:{position}", str(video.min_bitrate)]
        if video.max_bitrate:
            args += _cap_args(position, video.max_bitrate)
        return args
    if mode is RateControl.CONSTRAINED_QUALITY:
        assert video.max_bitrate is not None  # the schema demands it
        if name in ("libvpx-vp9", "libaom-av1"):
            # constrained quality in libvpx/libaom: crf plus -b as the ceiling
            return [
                *_quality_args(name, position, crf)[:2],
                f"-b:{position}",
                str(video.max_bitrate),
            ]
        return [*quality, *_cap_args(position, video.max_bitrate)]
    return quality


def _quality_args(name: str, position: int, crf: int) -> list[str]:
    """Constant-quality mode in each encoder's own terms."""
    if name in ("libvpx-vp9", "libaom-av1"):
        return [f"-crf:{position}", str(crf), f"-b:{position}", "0"]
    if name.endswith("_nvenc"):
        return [f"-rc:{position}", "vbr", f"-cq:{position}", str(crf), f"-b:{position}", "0"]
    if name.endswith("_qsv"):
        return [f"-global_quality:{position}", str(crf)]
    if name.endswith("_vaapi"):
        return [f"-rc_mode:{position}", "CQP", f"-qp:{position}", str(crf)]
    if name == "librav1e":
        return [f"-qp:{position}", str(crf)]
    return [f"-crf:{position}", str(crf)]


def _cap_args(position: int, max_bitrate: int) -> list[str]:
    """A bit-rate ceiling needs a VBV buffer; two seconds' worth at the cap."""
    return [f"-maxrate:{position}", str(max_bitrate), f"-bufsize:{position}", str(2 * max_bitrate)]


def _speed_args(name: str, position: int, preset: str | None) -> list[str]:
    """The preset in each encoder's terms; x264-style names are translated."""
    if preset is None:
        if name == "libvpx-vp9":
            return [f"-deadline:{position}", "good", f"-cpu-used:{position}", "2"]
        return []
    key = preset.strip().lower()
    numeric = key.lstrip("-").isdigit()
    if name in ("libx264", "libx265") or name.endswith("_qsv"):
        return [f"-preset:{position}", key]
    if name == "libvpx-vp9":
        level = key if numeric else str(_CPU_USED_VP9.get(key, 2))
        return [f"-deadline:{position}", "good", f"-cpu-used:{position}", level]
    if name == "libaom-av1":
        return [f"-cpu-used:{position}", key if numeric else str(_CPU_USED_AOM.get(key, 4))]
    if name == "libsvtav1":
        return [f"-preset:{position}", key if numeric else str(_SVT_PRESET.get(key, 8))]
    if name == "librav1e":
        return [f"-speed:{position}", key if numeric else "6"]
    if name.endswith("_nvenc"):
        return [f"-preset:{position}", _NVENC_PRESET.get(key, key)]
    return []  # vaapi: no preset knob


def audio_encoder_args(encoder: str, position: int, audio: AudioEncode | None) -> list[str]:
    """``-c:N encoder``, bit rate, and the channel count (downmix, see module doc)."""
    args = [f"-c:{position}", encoder]
    if audio is None:
        return args
    if audio.bitrate:
        args += [f"-b:{position}", str(audio.bitrate)]
    if audio.channels:
        args += [f"-ac:{position}", str(audio.channels)]
    return args


def needs_vaapi_device(choices: list[EncoderChoice]) -> bool:
    return any(choice.hardware is Hardware.VAAPI for choice in choices)
