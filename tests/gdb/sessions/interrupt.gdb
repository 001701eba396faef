# Two VPs, any architecture: gdb keeps VP 0 busy through a guest variable,
# continues in the background and interrupts (Ctrl-C: 0x03): every VP stops
# wherever it is (with a thread pool, VP 0 may not have had its turn yet),
# and the guest ends once the variable is cleared.
target remote 127.0.0.1:@PORT@
break gdb_first_stop
continue
#expect Breakpoint 1, gdb_first_stop
set var gdb_hold = 1
delete
continue &
#wait-for Continuing\.
#sleep 0.5
interrupt
#wait-for received signal SIGINT
#expect Thread [12] received signal SIGINT, Interrupt
info threads
#expect ^\* 1 +Thread 1 
#expect 2 +Thread 2 +gdb_spin \(vp=1\)
p gdb_hold
#expect ^.*\$1 = 1$
set var gdb_hold = 0
continue
#expect \[Inferior 1 \(Remote target\) exited normally\]
