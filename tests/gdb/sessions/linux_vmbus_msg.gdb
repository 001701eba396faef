# Debian's 6.1 test kernel on the pc platform with the VMBus integration
# components: a breakpoint at vmbus_on_msg_dpc, and the message the host
# sent read through the kernel's own page tables. The test kernel has a
# symbol table but no DWARF, so the layout is spelled out: the DPC's data
# (RDI) is the CPU's hv_per_cpu_context, whose first field points at the
# SIMP page; SINT2's slot is 256 bytes per SINT in; the VMBus header (its
# msgtype first) follows the 16-byte message header. The first message is
# the host's VERSION_RESPONSE (CHANNELMSG 15) in a message of type 1. gdb
# then kills the run.
target remote 127.0.0.1:@PORT@
break vmbus_on_msg_dpc
continue
#expect Breakpoint 1, 0x[0-9a-f]+ in vmbus_on_msg_dpc
set $slot = *(unsigned long *)$rdi + 2 * 256
p/x $slot
#expect ^.*\$1 = 0xffff8880[0-9a-f]+200$
p *(unsigned int *)$slot
#expect ^.*\$2 = 1$
p *(unsigned int *)($slot + 16)
#expect ^.*\$3 = 15$
monitor synic 0
#expect SINT2=0x200f3 vector=0xf3 auto-eoi slot=0x1 
monitor vmbus
#expect vmbus: connected, version 0x50003, target vp0 sint2
#expect relid 2: connection 0x1002 
kill
#expect \[Inferior 1 \(Remote target\) killed\]
