# Installs the built flamecpp into a scratch prefix, configures and builds a project outside
# the tree against it with find_package, and runs the result: the `consumer` executable
# (RUN=consumer), or the project's own tests through ctest (RUN=ctest).
# Called as: cmake -DBUILD=... -DSOURCE=... -DWORK=... -DFLAGS=... -DRUN=... -P check.cmake
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build -G Ninja
                        -DCMAKE_PREFIX_PATH=${WORK}/prefix "-DCMAKE_CXX_FLAGS=${FLAGS}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring the consumer failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the consumer failed")
endif()
if(RUN STREQUAL "ctest")
    execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${WORK}/build --output-on-failure
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "the project's tests failed against the installed package")
    endif()
    message(STATUS "${SOURCE} built against the installed package and passed its tests")
else()
    execute_process(COMMAND ${WORK}/build/consumer --help OUTPUT_VARIABLE out RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "--port")
        message(FATAL_ERROR "the consumer did not run: ${rc} ${out}")
    endif()
    message(STATUS "consumer built against the installed package and ran")
endif()
