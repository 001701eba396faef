# Loads a fixture's timeline into tools/timeline-viewer in headless
# Chromium and checks what the page shows: the tracks, the slices with
# decoded VMBus names, and the flow arrows.
# Usage: cmake -DREPLAY=... -DCHROMIUM=... -DVIEWER=index.html -DFIXTURE=... -DWORK=dir -P timeline_viewer.cmake
file(MAKE_DIRECTORY ${WORK})
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
foreach(want
    "3 tracks, 13 slices, 2 flow arrows"
    "data-track=\"VP 0\"" "data-track=\"host calls\"" "data-track=\"port vmbus\""
    ">WRMSR SCONTROL<" ">HvPostMessage<" ">message VMBus INITIATE_CONTACT<"
    ">post VMBus VERSION_RESPONSE<" ">deliver SINT2 VMBus VERSION_RESPONSE<" ">interrupt 0xf3<" ">EOI<")
  string(FIND "${dom}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the viewer does not show '${want}'")
  endif()
endforeach()
