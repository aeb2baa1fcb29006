# Compiles one file that must fail, and checks that every `// expect: REGEX` line in it
# matches the compiler's output: the error must name the problem, not merely happen.
# Called as: cmake -DCXX=... -DINCLUDE=... -DSOURCE=... -P check.cmake
file(STRINGS ${SOURCE} expectations REGEX "^// expect: ")
execute_process(
    COMMAND ${CXX} -std=c++20 -fsyntax-only -DBOOST_ASIO_SEPARATE_COMPILATION -I${INCLUDE} ${SOURCE}
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
if(NOT expectations)
    message(FATAL_ERROR "${SOURCE} has no // expect: lines")
endif()
foreach(line ${expectations})
    string(REPLACE "// expect: " "" regex "${line}")
    if(NOT "${out}${err}" MATCHES "${regex}")
        message(FATAL_ERROR "the error output does not match '${regex}':\n${err}")
    endif()
endforeach()
message(STATUS "failed as expected")
