# Sourced by the stubs: sets OUT to the file a mkvmerge/ffmpeg/mkvpropedit command line writes.
OUT=""
previous=""
for argument in "$@"; do
    if [ "$previous" = "--output" ] || [ "$previous" = "-o" ]; then OUT="$argument"; fi
    previous="$argument"
done
if [ -z "$OUT" ] && [ "$1" = "--quiet" ]; then OUT="$2"; fi  # mkvpropedit edits $2 in place
if [ -z "$OUT" ]; then OUT="$argument"; fi                    # ffmpeg: the last argument
OUT="${OUT#file:}"
