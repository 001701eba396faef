#!/bin/sh
# Runs one gdb session against softsynic-run's GDB stub and checks it.
#
#   gdb_session.sh RUN GDB SYMBOLS SCRIPT STATUS [softsynic-run arguments...]
#
# Starts RUN with the arguments (which name --gdb 0, so the stub picks a
# free port: tests run in parallel), reads the port from its stderr, and
# feeds SCRIPT's lines to GDB (loaded with SYMBOLS) on its standard input,
# @PORT@ replaced. Lines of SCRIPT starting with
#   #expect REGEX   an extended regex gdb's output must match (a line)
#   #reject REGEX   one it must not match
#   #sleep SECONDS  wait before the next line
#   #wait-for REGEX wait (at most 60 s) until gdb's output matches REGEX
#                   (an asynchronous stop)
#   #kill-gdb       kill gdb at once (a debugger that disappears)
# are not sent. Passes when every expectation holds and RUN exits with
# STATUS.
set -u
run=$1 gdb=$2 symbols=$3 script=$4 status=$5
shift 5
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${emu:-}" ] && kill "$emu" 2>/dev/null' EXIT
fail() {
  echo "FAIL: $*"
  echo "---- gdb ----"; cat "$work/gdb.out"
  echo "---- softsynic-run stdout ----"; cat "$work/run.out"
  echo "---- softsynic-run stderr ----"; cat "$work/run.err"
  exit 1
}

. "$(dirname "$0")/stub_port.sh"
start_softsynic_run "$run" "$@"
touch "$work/gdb.out"
[ -n "$port" ] || fail "softsynic-run named no gdb port"

mkfifo "$work/in"
timeout 120 "$gdb" -nx -q "$symbols" <"$work/in" >"$work/gdb.out" 2>&1 &
debugger=$!
exec 3>"$work/in"
while IFS= read -r line; do
  case "$line" in
    "#sleep "*) sleep "${line#\#sleep }" ;;
    "#wait-for "*)
      for _ in $(seq 600); do
        grep -Eq -- "${line#\#wait-for }" "$work/gdb.out" && break
        sleep 0.1
      done ;;
    "#kill-gdb") kill -9 "$debugger" 2>/dev/null ;;
    "#"*) ;;
    *) printf '%s\n' "$line" | sed "s/@PORT@/$port/g" >&3 2>/dev/null ;;
  esac
done <"$script"
exec 3>&-
wait "$debugger"
wait "$emu"
got=$?
emu=

grep '^#expect ' "$script" | sed 's/^#expect //' | while IFS= read -r regex; do
  grep -Eq -- "$regex" "$work/gdb.out" || { echo "missing: $regex"; exit 1; }
done >"$work/missing"
[ -s "$work/missing" ] && fail "gdb's output lacks $(cat "$work/missing")"
grep '^#reject ' "$script" | sed 's/^#reject //' | while IFS= read -r regex; do
  grep -Eq -- "$regex" "$work/gdb.out" && echo "present: $regex"
done >"$work/present"
[ -s "$work/present" ] && fail "gdb's output has $(cat "$work/present")"
[ "$got" = "$status" ] || fail "softsynic-run exited with $got, expected $status"
cat "$work/gdb.out"
echo "PASS"
