# x86-64, two VPs: each VP is a thread; when VP 0 stops at a breakpoint VP 1
# is stopped too, inside its own loop, with registers of its own.
target remote 127.0.0.1:@PORT@
info threads
#expect ^.*\* 1 +Thread 1 
#expect ^ +2 +Thread 2 
break gdb_second_stop
continue
#expect Thread 1 hit Breakpoint 1, gdb_second_stop
info threads
#expect 2 +Thread 2 +gdb_spin \(vp=1\)
thread 2
#expect Switching to thread 2 \(Thread 2\)
info symbol $pc
#expect gdb_spin \+ [0-9]+ in section
set $vp1_sp = $sp
thread 1
#expect Switching to thread 1 \(Thread 1\)
info symbol $pc
#expect gdb_second_stop( \+ [0-9]+)? in section
printf "stacks %d apart\n", $sp - $vp1_sp
#expect stacks 6[0-9]{4} apart
monitor synic
#expect vp0 vtl0: SCONTROL=0x1 \(enabled\)
#expect vp1 vtl0: SCONTROL=0 \(disabled\)
continue
#expect \[Inferior 1 \(Remote target\) exited normally\]
