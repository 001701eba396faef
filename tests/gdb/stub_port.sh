# Sourced by the GDB stub's test scripts: starts softsynic-run in the
# background (its output in $work/run.out and $work/run.err, its pid in
# $emu) and sets $port to the port its stub names on stderr (empty when it
# names none within 60 s). Needs $work.
start_softsynic_run() {
  timeout 120 "$@" >"$work/run.out" 2>"$work/run.err" &
  emu=$!
  port=
  for _ in $(seq 600); do
    port=$(sed -n 's/^softsynic-run: gdb stub listening on .*:\([0-9][0-9]*\).*/\1/p' "$work/run.err" 2>/dev/null)
    [ -n "$port" ] && return
    kill -0 "$emu" 2>/dev/null || return
    sleep 0.1
  done
}
