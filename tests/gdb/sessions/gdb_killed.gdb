# gdb dies (SIGKILL) while the guest is stopped at a breakpoint, with a
# second breakpoint still inserted: the stub removes both and resumes the
# guest, which runs to its end.
target remote 127.0.0.1:@PORT@
break gdb_first_stop
break gdb_second_stop
continue
#wait-for Breakpoint 1, gdb_first_stop
#expect Breakpoint 1, gdb_first_stop
#kill-gdb
