# Configures and builds test/fetch_consumer, which pulls this checkout in with FetchContent,
# then checks that only the library was built for it (no tests, samples or benchmarks: a
# dependency builds what its user links) and that the consumer runs.
# Called as: cmake -DSOURCE=... -DFLAMECPP=... -DWORK=... -P check.cmake
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK} -G Ninja
                        -DFLAMECPP_SOURCE=${FLAMECPP} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring the FetchContent consumer failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK} --target help OUTPUT_VARIABLE targets)
foreach(unwanted router_test server_test hello chat endpoints bench flamecpp_test_support)
    if(targets MATCHES "(^|\n)${unwanted}:")
        message(FATAL_ERROR "a FetchContent user gets the target '${unwanted}'")
    endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the FetchContent consumer failed")
endif()
execute_process(COMMAND ${WORK}/consumer --help OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "--port")
    message(FATAL_ERROR "the consumer did not run: ${rc} ${out}")
endif()
message(STATUS "a FetchContent consumer built flamecpp as a subproject, and ran")
