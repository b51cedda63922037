#!/usr/bin/env bash
# vpo quick start, on a fresh Debian 12 machine (as root, or as a user with sudo):
#
#   ./quickstart.sh demo   build a demo library in ./demo-library and show vpo on it
#   ./quickstart.sh test   lint, type-check and run the whole test suite
#
# Both first install what is missing (ffmpeg, mkvtoolnix, python3 with apt-get, and
# for `test` Debian's chromium for the web interface's browser tests;
# uv into .tools/ when it is not on PATH) and set up .venv from uv.lock. Running
# them again skips everything already in place.
set -euo pipefail

UV_VERSION="0.13.9" # the uv that .tools/ gets when none is installed
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

say() { printf 'quickstart: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

usage() {
    cat >&2 <<'EOF'
usage: ./quickstart.sh demo [DIR] [--force]   build the demo library and show vpo on it
       ./quickstart.sh test [PYTEST ARGS]     ruff, mypy and the whole pytest suite
EOF
    exit 2
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "installing system packages needs root: run as root or install sudo"
    fi
}

apt_updated=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        die "missing $*, and this system has no apt-get: install them with your package" \
            "manager (ffmpeg gives ffmpeg/ffprobe, mkvtoolnix gives mkvmerge/mkvpropedit)," \
            "then run this again"
    fi
    say "installing with apt-get: $*"
    if [ "$apt_updated" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# ffmpeg/ffprobe, mkvmerge/mkvpropedit and python3, from Debian's packages.
ensure_system_packages() {
    local packages=()
    if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
        packages+=(ffmpeg)
    fi
    if ! command -v mkvmerge >/dev/null 2>&1 || ! command -v mkvpropedit >/dev/null 2>&1; then
        packages+=(mkvtoolnix)
    fi
    if ! command -v python3 >/dev/null 2>&1; then
        packages+=(python3 python3-venv)
    fi
    if ! command -v setfacl >/dev/null 2>&1; then
        packages+=(acl) # setfacl/getfacl: the tests check ACLs survive a remux
    fi
    # The web interface's browser tests drive Debian's chromium (never a downloaded browser).
    if [ "${1:-}" = test ] && [ ! -x /usr/bin/chromium ]; then
        packages+=(chromium)
    fi
    if [ "${#packages[@]}" -gt 0 ]; then
        apt_install "${packages[@]}"
    fi
    local tool
    for tool in ffmpeg ffprobe mkvmerge mkvpropedit python3; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "$tool is still not on PATH ($PATH) after installing; install it, then run this again"
    done
}

# Sets UV: uv from PATH, else from .tools/ (installed there with pip on first use).
find_uv() {
    if uv --version >/dev/null 2>&1; then
        UV="uv"
        return
    fi
    UV="$ROOT/.tools/bin/uv"
    if "$UV" --version >/dev/null 2>&1; then
        return
    fi
    say "uv is not on PATH: installing uv $UV_VERSION into .tools/"
    if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    rm -rf "$ROOT/.tools"
    python3 -m venv "$ROOT/.tools"
    "$ROOT/.tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
}

# .venv exactly as uv.lock says; uv must not download a Python (only PyPI is reachable).
sync_environment() {
    find_uv
    # --compile-bytecode: every later start of vpo reads .pyc files instead of compiling
    # the sources again (about half of its start-up when PYTHONDONTWRITEBYTECODE is set).
    UV_PYTHON_DOWNLOADS=never "$UV" sync --frozen --quiet --compile-bytecode ||
        die "uv sync failed; vpo needs Python >= 3.10 (python3 --version says: $(python3 --version 2>&1))"
    # vpo itself is installed editable (its sources stay in src/): compile them too.
    "$ROOT/.venv/bin/python" -m compileall -q "$ROOT/src" >/dev/null ||
        die "could not compile the vpo sources in $ROOT/src"
}

run() {
    say "\$ $*"
    "$@"
}

PYTHON_TREES=(src tests bench) # what ruff checks: the Python code, not Markdown in docs/

run_tests() {
    run .venv/bin/ruff check "${PYTHON_TREES[@]}"
    run .venv/bin/ruff format --check "${PYTHON_TREES[@]}"
    run .venv/bin/mypy src
    local status=0
    run .venv/bin/pytest -n auto "$@" || status=$?
    if [ "$status" -eq 5 ]; then
        die "pytest collected no tests (exit 5): that is a failure, not a pass"
    fi
    return "$status"
}

main() {
    [ "$#" -ge 1 ] || usage
    local command="$1"
    shift
    case "$command" in
    demo | test) ;;
    *) usage ;;
    esac
    ensure_system_packages "$command"
    sync_environment
    if [ "$command" = demo ]; then
        run .venv/bin/vpo demo "$@"
    else
        run_tests "$@"
    fi
}

main "$@"
