#!/bin/sh
# The Linux test kernel's gdb session (tests/gdb/CMakeLists.txt):
#   linux_session.sh GDB_SESSION RUN GDB SCRIPT VMLINUX BZIMAGE
# boots BZIMAGE on the pc platform with the VMBus integration components,
# held for gdb, which loads VMLINUX's symbols; gdb kills the run (120).
exec "$1" "$2" "$3" "$5" "$4" 120 --platform pc --linux "$6" --vps 1 --memory 256M --append console=ttyS0 \
     --device vmbus-ic --gdb-wait --gdb 0 --timeout 240
