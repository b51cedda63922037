#!/bin/sh
# Sourced by the per-tool wrappers with TOOL set: logs start/end of every call, may
# sleep, may fail for one file, then runs the real tool (see README.md).
REAL="${VPO_STUB_REAL_DIR:-/usr/bin}/$TOOL"
ARGS=$(printf '%s ' "$@" | tr '\n' ' ')
log() {
    if [ -n "$VPO_STUB_LOG" ]; then
        printf '%s %s %s %s %s\n' "$1" "$TOOL" "$$" "$(date +%s.%N)" "$ARGS" >> "$VPO_STUB_LOG"
    fi
}
probe=0
case " $ARGS " in *" -J "*) probe=1 ;; esac
[ "$TOOL" = ffprobe ] && probe=1
log start
if [ "$probe" = 0 ] && [ -n "$VPO_STUB_FAIL_MATCH" ]; then
    case "$ARGS" in
        *"$VPO_STUB_FAIL_MATCH"*)
            log end
            echo "Error: stub failure for $VPO_STUB_FAIL_MATCH" >&2
            exit 2
            ;;
    esac
fi
if [ "$probe" = 0 ] && [ -n "$VPO_STUB_SLEEP" ]; then
    sleep "$VPO_STUB_SLEEP"
fi
"$REAL" "$@"
status=$?
log end
exit $status
