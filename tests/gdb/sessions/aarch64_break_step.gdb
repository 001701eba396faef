# aarch64, one VP: a breakpoint at a symbol, registers and a variable, one
# instruction stepped, a second breakpoint, SynIC state and physical memory
# through monitor commands, and the guest's own exit.
target remote 127.0.0.1:@PORT@
#expect currently "aarch64"
show architecture
break gdb_first_stop
break gdb_second_stop
continue
#expect Breakpoint 1, gdb_first_stop \(value=
p/x $x0
#expect ^.*\$1 = 0x1234$
info registers pc sp cpsr
#expect pc +0x[0-9a-f]+ +0x[0-9a-f]+ <gdb_first_stop>
#expect sp +0x4[0-9a-f]{7} 
#expect cpsr +0x[0-9a-f]*[1-9a-f][0-9a-f]{2} 
set $before = $pc
stepi
printf "stepped %d bytes\n", $pc - $before
#expect stepped 4 bytes
continue
#expect Breakpoint 2, gdb_second_stop \(value=
p/x gdb_counter
#expect ^.*\$2 = 0x1234$
monitor synic 0
#expect vp0 vtl0: SCONTROL=0x1 \(enabled\) SIMP=0x[0-9a-f]+001 SIEFP=0x[0-9a-f]+001
#expect SINT2=0x14 vector=0x14 slot=0 queued=0
monitor ports
#expect connection 0x2001 message port minimum vtl0
monitor timers 0
#expect vp0 vtl0 STIMER0: config=0 disabled
#expect vp0 next deadline: 
monitor phys 0x40080000 0x10
#expect 0000000040080000: 80 d0 18 d5 
x/1xb 0x40080000
#expect 0x40080000 <_start>:\s+0x80
continue
#expect \[Inferior 1 \(Remote target\) exited normally\]
