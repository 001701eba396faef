# gdb detaches at a breakpoint: its breakpoints go and the guest runs to its
# end (a second breakpoint no longer stops it).
target remote 127.0.0.1:@PORT@
break gdb_first_stop
break gdb_second_stop
continue
#expect Breakpoint 1, gdb_first_stop
detach
#expect \[Inferior 1 \(Remote target\) detached\]
