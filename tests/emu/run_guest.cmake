# Runs one guest on softsynic-run and checks its exit status and output.
# Inputs: RUN, ARCH, IMAGE, VPS, EXPECT, OUTPUT (regexes), ARGS (extra
# softsynic-run arguments), lists joined with "|&|"; optional REPLAY and
# RECORD_FILE: record the run and replay the recording, which must pass.
string(REPLACE "|&|" ";" OUTPUT "${OUTPUT}")
string(REPLACE "|&|" ";" ARGS "${ARGS}")
if(REPLAY)
  get_filename_component(record_dir ${RECORD_FILE} DIRECTORY)
  file(MAKE_DIRECTORY ${record_dir})
  list(APPEND ARGS --record ${RECORD_FILE})
endif()
# ARCH "pc": a multiboot kernel on the pc platform, which exits through
# isa-debug-exit: success is status 1 ((0 << 1) | 1), and a run must end
# within 30 s (status 124 otherwise).
if(ARCH STREQUAL "pc")
  set(command ${RUN} --platform pc --vps ${VPS} --kernel ${IMAGE} --timeout 30 ${ARGS})
  set(success 1)
else()
  set(command ${RUN} --arch ${ARCH} --vps ${VPS} --image ${IMAGE} --timeout 60 ${ARGS})
  set(success 0)
endif()
execute_process(
  COMMAND ${command}
  RESULT_VARIABLE status
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
set(all "${out}${err}")
message("${all}")
# AGAIN: a deterministic run; a second one must print exactly the same.
if(AGAIN)
  execute_process(COMMAND ${command} RESULT_VARIABLE again_status OUTPUT_VARIABLE again_out ERROR_VARIABLE again_err)
  if(NOT again_out STREQUAL out OR NOT again_status STREQUAL status)
    message(FATAL_ERROR "a second run differs:\n${again_out}${again_err}")
  endif()
endif()
if(NOT status STREQUAL EXPECT)
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT}")
endif()
foreach(regex ${OUTPUT})
  if(NOT all MATCHES "${regex}")
    message(FATAL_ERROR "output does not match '${regex}'")
  endif()
endforeach()
if(EXPECT STREQUAL success)
  if(NOT out MATCHES "PASS")
    message(FATAL_ERROR "no PASS line")
  endif()
  if(out MATCHES "FAIL")
    message(FATAL_ERROR "a FAIL line")
  endif()
endif()
if(REPLAY)
  execute_process(COMMAND ${REPLAY} ${RECORD_FILE} RESULT_VARIABLE replay_status OUTPUT_VARIABLE replay_out
                  ERROR_VARIABLE replay_err)
  message("${replay_out}${replay_err}")
  if(NOT replay_status EQUAL 0)
    message(FATAL_ERROR "the recording of this run does not replay (status ${replay_status})")
  endif()
  # Replaying the same file again gives the same bytes.
  execute_process(COMMAND ${REPLAY} ${RECORD_FILE} RESULT_VARIABLE again_status OUTPUT_VARIABLE again_out
                  ERROR_VARIABLE again_err)
  if(NOT again_status EQUAL replay_status OR NOT "${again_out}${again_err}" STREQUAL "${replay_out}${replay_err}")
    message(FATAL_ERROR "a second replay of the recording printed something else")
  endif()
endif()
