# x86-64 with the VMBus host and its echo device: at the guest driver's
# first two HvSignalEvent calls (the channel's doorbell), `monitor vmbus`
# shows the open channel, its packet counts and both rings' indices moving
# by one 0x20-byte packet.
target remote 127.0.0.1:@PORT@
break hv_signal_event_fast
continue
#expect Breakpoint 1, 0x[0-9a-f]+ in hv_signal_event_fast
monitor vmbus
#expect vmbus: connected, version 0x50003, target vp0 sint2, 1 gpadls, 1 channels \(1 open\)
#expect relid 1: connection 0x1001 open vp0 gpadl 0x[0-9a-f]+ packets in 0 out 0; guest->host ring write 0x20 read 0 \(of 0x10000\); host->guest ring write 0 read 0
continue
monitor vmbus
#expect packets in 1 out 1; guest->host ring write 0x40 read 0x20 \(of 0x10000\); host->guest ring write 0x20 read 0 
monitor help
#expect vmbus +VMBus host
delete
continue
#expect \[Inferior 1 \(Remote target\) exited normally\]
