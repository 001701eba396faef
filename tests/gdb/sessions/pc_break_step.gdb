# pc platform, two VPs (a multiboot kernel with its own page tables and an
# AP started by INIT/SIPI): breakpoints, a step, both VPs' threads, the
# exit through isa-debug-exit ((0 << 1) | 1).
target remote 127.0.0.1:@PORT@
info registers rip
#expect rip +0xffff[0-9a-f]{4} 
break gdb_first_stop
break gdb_second_stop
continue
#expect Breakpoint 1, gdb_first_stop \(value=
p/x $rdi
#expect ^.*\$1 = 0x1234$
set $before = $pc
stepi
printf "stepped %d bytes\n", $pc - $before
#expect stepped ([1-9]|1[0-5]) bytes
continue
#expect Breakpoint 2, gdb_second_stop \(value=
p/x gdb_counter
#expect ^.*\$2 = 0x1234$
info registers cr3
#expect cr3 +0x[1-9a-f][0-9a-f]*000 
info threads
#expect 2 +Thread 2 +gdb_spin \(vp=1\)
monitor synic
#expect vp0 vtl0: SCONTROL=0x1 \(enabled\)
continue
#expect \[Inferior 1 \(Remote target\) exited with code 01\]
