# Loads a trace's timeline into tools/timeline-viewer in headless Chromium
# and checks what the page shows: the tracks, the slices (with decoded
# VMBus names) and the flow arrows. The trace is FIXTURE, or, with RUN and
# IMAGE, the recording of a live x86-64 run of IMAGE on softsynic-run; WANT
# (strings joined with "|&|") replaces the default checks.
# Usage: cmake -DREPLAY=... -DCHROMIUM=... -DVIEWER=index.html -DWORK=dir
#              (-DFIXTURE=... | -DRUN=softsynic-run -DIMAGE=guest.elf) [-DWANT=...] -P timeline_viewer.cmake
file(MAKE_DIRECTORY ${WORK})
if(RUN)
  set(FIXTURE ${WORK}/recorded.json)
  execute_process(COMMAND ${RUN} --arch x86_64 --vps 1 --image ${IMAGE} --record ${FIXTURE}
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "softsynic-run --record failed: ${rc}")
  endif()
endif()
execute_process(COMMAND ${REPLAY} --timeline ${WORK}/timeline.js ${FIXTURE} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "softsynic-replay --timeline failed: ${rc}")
endif()
execute_process(COMMAND ${CHROMIUM} --headless --no-sandbox --disable-gpu --virtual-time-budget=5000
                        --user-data-dir=${WORK}/profile --dump-dom "file://${VIEWER}?data=file://${WORK}/timeline.js"
                RESULT_VARIABLE rc OUTPUT_VARIABLE dom ERROR_QUIET TIMEOUT 120)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "chromium failed: ${rc}")
endif()
if(WANT)
  string(REPLACE "|&|" ";" wants "${WANT}")
else()
  set(wants
      "3 tracks, 13 slices, 2 flow arrows"
      "data-track=\"VP 0\"" "data-track=\"host calls\"" "data-track=\"port vmbus\""
      ">WRMSR SCONTROL<" ">HvPostMessage<" ">message VMBus INITIATE_CONTACT<"
      ">post VMBus VERSION_RESPONSE<" ">deliver SINT2 VMBus VERSION_RESPONSE<" ">interrupt 0xf3<" ">EOI<")
endif()
foreach(want IN LISTS wants)
  string(FIND "${dom}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the viewer does not show '${want}'")
  endif()
endforeach()
