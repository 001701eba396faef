# Copies a fixture, breaks one expectation (the pending flag the busy slot
# must show), and checks that softsynic-replay fails with exit 1 and names
# the step (index and op) with the expected and observed bytes. Also checks
# that a truncated copy is a load error (exit 2) and that replaying twice
# prints the same bytes.
# Usage: cmake -DREPLAY=... -DFIXTURE=... -DWORK=dir -P broken_fixture.cmake
file(READ ${FIXTURE} text)
set(good "01 00 00 00 01 01 00 00 00 00 00 00 00 00 00 00 01")
set(bad  "01 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 01")
string(FIND "${text}" "${good}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the expectation to break is not in ${FIXTURE}")
endif()
string(REPLACE "${good}" "${bad}" broken "${text}")
file(MAKE_DIRECTORY ${WORK})
file(WRITE ${WORK}/broken.json "${broken}")

foreach(run 1 2)
  execute_process(COMMAND ${REPLAY} ${WORK}/broken.json RESULT_VARIABLE rc OUTPUT_VARIABLE out${run})
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "expected exit 1, got ${rc}:\n${out${run}}")
  endif()
endforeach()
set(want "FAIL ${WORK}/broken.json\n  step 8 (expect_memory) \"old message stays, pending set\": memory: expected ${bad}, observed ${good}\n")
if(NOT out1 STREQUAL want)
  message(FATAL_ERROR "unexpected report:\n${out1}\nwanted:\n${want}")
endif()
if(NOT out1 STREQUAL out2)
  message(FATAL_ERROR "two replays printed different output")
endif()

string(SUBSTRING "${text}" 0 200 truncated)
file(WRITE ${WORK}/truncated.json "${truncated}")
execute_process(COMMAND ${REPLAY} ${WORK}/truncated.json RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2 OR NOT out MATCHES "load error: not valid JSON")
  message(FATAL_ERROR "truncated copy: expected exit 2 and a load error, got ${rc}:\n${out}")
endif()
execute_process(COMMAND ${REPLAY} ${FIXTURE} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the original fixture should pass, got ${rc}")
endif()
