#!/usr/bin/env bash
# Where a .NET command's CPU time goes, by method, with JIT-compiled frames named: runs the command
# under `perf record` with the runtime's perf map on, then prints, for the samples whose stack holds
# a frame matching --frame, the share of each method's own time (self) and of the time under it
# (inclusive). docs/BENCHMARKS.md ("Where the time goes") shows what it prints for the drain.
#
#   scripts/profile.sh [--frame TEXT] [--top N] [--data FILE] -- COMMAND [ARGS...]
#   scripts/profile.sh --frame 'ConsumeLoop+<RunAsync>' -- \
#       src/Orders.Cli/bin/Release/net10.0/orders bench --count 400000 --repeats 3 --no-kcat
#
# --frame  a text every counted stack contains (default: the processor's consume loop); one thread's
#          work is a frame only it runs.
# --top    rows of each table (default 30).
# --data   where perf writes its samples (default: a temporary file, removed at the end).
#
# Needs perf (Debian: linux-perf) and python3, and a kernel that lets this user sample
# (kernel.perf_event_paranoid <= 2 for one's own processes). Samples are taken with the CPU clock:
# hardware counters are not needed, so it works in most virtual machines too. Frames of the runtime
# itself (libcoreclr.so) stay addresses: its symbols are not shipped with it.
set -euo pipefail

frame='ConsumeLoop+<RunAsync>'
top=30
data=''
while [[ $# -gt 0 ]]; do
  if [[ "$1" == --frame || "$1" == --top || "$1" == --data ]] && [[ $# -lt 2 ]]; then
    echo "profile.sh: $1 needs a value" >&2
    exit 2
  fi
  case "$1" in
    --frame) frame="$2"; shift 2 ;;
    --top) top="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "profile.sh: unknown option $1 (usage: scripts/profile.sh [--frame TEXT] [--top N] [--data FILE] -- COMMAND...)" >&2; exit 2 ;;
  esac
done

if [[ $# -eq 0 ]]; then
  echo "profile.sh: no command to profile (usage: scripts/profile.sh [--frame TEXT] [--top N] [--data FILE] -- COMMAND...)" >&2
  exit 2
fi

for tool in perf python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "profile.sh: $tool is not installed" >&2
    exit 2
  fi
done

temporary=false
if [[ -z "$data" ]]; then
  data="$(mktemp --suffix=.perf.data)"
  temporary=true
fi
cleanup() {
  rm -f "$data.script"
  if [[ "$temporary" == true ]]; then rm -f "$data"; fi
}
trap cleanup EXIT

# The perf map (/tmp/perf-PID.map) names JIT-compiled code; with W^X on, that code runs from a
# double-mapped memfd the map does not cover, so W^X is off for this run only.
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  perf record -F 999 -g -o "$data" -- "$@" >&2

perf script -i "$data" -F tid,ip,sym,dso 2>/dev/null >"$data.script"
python3 - "$frame" "$top" "$data.script" <<'PY'
import collections
import re
import sys

frame, top, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tiers = re.compile(r'\[(OptimizedTier1OSR|OptimizedTier1|QuickJitted|Optimized|PreJIT|Tier0|Instrumented\w*)\]')


def name(line):
    """One frame of `perf script`: a managed method as Type::Method, anything else as symbol @ library."""
    text = re.sub(r'\+0x[0-9a-f]+', '', line.strip().split(' ', 1)[-1])
    if '::' in text and '(' in text:
        text = tiers.sub('', text)
        match = re.search(r'([\w`<>.+\[\],!]+::[\w<>.`]+)\(', text)
        if match:
            return re.sub(r'\[[^\]]*\]\s*', '', match.group(1))
    library = re.search(r'\(([^)]*)\)\s*$', text)
    symbol = re.sub(r'\s*\([^)]*\)\s*$', '', text)
    if symbol.startswith(('[unknown]', '0x')) or re.fullmatch(r'[0-9a-f]+', symbol):
        symbol = '?'
    return f"{symbol} @{library.group(1).rsplit('/', 1)[-1] if library else '?'}"


own = collections.Counter()
under = collections.Counter()
counted = 0
with open(path, encoding='utf-8', errors='replace') as script:
    for sample in script.read().split('\n\n'):
        lines = [line for line in sample.split('\n') if line.strip()]
        if len(lines) < 2 or not any(frame in line for line in lines[1:]):
            continue
        frames = [name(line) for line in lines[1:]]
        counted += 1
        own[frames[0]] += 1
        for method in set(frames):
            under[method] += 1

if counted == 0:
    print(f"no sample has a frame matching {frame!r}", file=sys.stderr)
    sys.exit(1)

print(f"{counted} samples with {frame!r} on the stack")
for title, table in (('self', own), ('inclusive', under)):
    print(f"\n{title}:")
    for method, samples in table.most_common(top):
        print(f"{100 * samples / counted:6.2f}%  {method}")
PY
