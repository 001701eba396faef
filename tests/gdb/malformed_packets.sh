#!/bin/bash
# A client that speaks garbage to softsynic-run's GDB stub: a bad checksum
# gets a NAK, a malformed request an error reply, an oversized packet an
# error reply, and the stub keeps serving (a valid request still gets its
# answer). When the client goes, the guest (held by --gdb-wait) is
# released and runs to its normal end.
#
#   malformed_packets.sh RUN [softsynic-run arguments...]
set -u
run=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/stub_port.sh"
start_softsynic_run "$run" "$@"
[ -n "$port" ] || { echo "FAIL: no port"; cat "$work/run.err"; exit 1; }

checksum() { printf '%s' "$1" | od -An -tu1 -v | tr -s ' ' '\n' | awk '{s += $1} END {printf "%02x", s % 256}'; }
packet() { printf '$%s#%s' "$1" "$(checksum "$1")"; }
# Reads what the stub sent within a moment.
replies() { timeout 1 cat <&3 >>"$work/replies" || true; }

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf '$qSupported#00' >&3                    # bad checksum
packet 'mzz,qq' >&3                            # malformed memory read
packet 'Z9,1000,1' >&3                         # no such breakpoint type
packet 'p1ffffffff' >&3                        # no such register
printf '$%s' "$(head -c 40000 /dev/zero | tr '\0' 'A')" >&3
printf '#00' >&3                               # oversized
printf '\003\003}}}##$$' >&3                   # stray bytes
packet 'qfThreadInfo' >&3                      # still served
replies
exec 3>&-
wait "$emu"
status=$?
echo "replies: $(cat "$work/replies")"
fail=0
grep -q -- '^-' "$work/replies" || { echo "FAIL: no NAK for a bad checksum"; fail=1; }
[ "$(grep -o 'E01' "$work/replies" | wc -l)" -ge 3 ] || { echo "FAIL: fewer than three error replies"; fail=1; }
grep -q 'm1#' "$work/replies" || { echo "FAIL: qfThreadInfo not answered after the garbage"; fail=1; }
[ "$status" = 0 ] || { echo "FAIL: softsynic-run exited with $status"; cat "$work/run.out" "$work/run.err"; fail=1; }
[ "$fail" = 0 ] && echo PASS
exit "$fail"
