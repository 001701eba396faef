# x86-64, two VPs: gdb writes a guest variable that keeps VP 0 busy,
# continues in the background and interrupts the running guest (Ctrl-C:
# 0x03); every VP stops. Clearing the variable lets the guest end.
target remote 127.0.0.1:@PORT@
break gdb_first_stop
continue
#expect Breakpoint 1, gdb_first_stop
set var gdb_hold = 1
delete
continue &
#wait-for Continuing\.
# (time for VP 0's first slice, on a loaded machine too)
#sleep 2
interrupt
#wait-for received signal SIGINT
#expect Thread [12] received signal SIGINT, Interrupt
info threads
#expect 1 +Thread 1 +gdb_busy \(\)
#expect 2 +Thread 2 +gdb_spin \(vp=1\)
p gdb_hold
#expect ^.*\$1 = 1$
set var gdb_hold = 0
continue
#expect \[Inferior 1 \(Remote target\) exited normally\]
