# Compiles one file twice.
# - As it is, it must fail, and every `// expect: REGEX` line in it must match the compiler's
#   output: the error must name the problem, not merely happen. Every
#   `// expect-first-error: REGEX` line must match the first line that says `error:`: the
#   message must not come after some other error.
# - With -DFLAMECPP_FIXED, its fixed twin (the code under `#ifdef FLAMECPP_FIXED`, which applies
#   the fix the message suggests) must compile without a diagnostic: the advice must work.
# Called as: cmake -DCXX=... -DINCLUDE=... -DSOURCE=... -P check.cmake
set(flags -std=c++20 -fsyntax-only -DBOOST_ASIO_SEPARATE_COMPILATION -I${INCLUDE})
file(STRINGS ${SOURCE} expectations REGEX "^// expect: ")
file(STRINGS ${SOURCE} first_error_expectations REGEX "^// expect-first-error: ")
file(STRINGS ${SOURCE} twin REGEX "^#ifn?def FLAMECPP_FIXED")
if(NOT expectations)
    message(FATAL_ERROR "${SOURCE} has no // expect: lines")
endif()
if(NOT twin)
    message(FATAL_ERROR "${SOURCE} has no fixed twin (#ifdef FLAMECPP_FIXED)")
endif()

execute_process(
    COMMAND ${CXX} ${flags} ${SOURCE}
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
foreach(line ${expectations})
    string(REPLACE "// expect: " "" regex "${line}")
    if(NOT "${out}${err}" MATCHES "${regex}")
        message(FATAL_ERROR "${SOURCE}: the error output does not match '${regex}':\n${out}${err}")
    endif()
endforeach()
string(REGEX MATCH "[^\n]*error:[^\n]*" first_error "${out}${err}")
foreach(line ${first_error_expectations})
    string(REPLACE "// expect-first-error: " "" regex "${line}")
    if(NOT "${first_error}" MATCHES "${regex}")
        message(FATAL_ERROR "${SOURCE}: the first error does not match '${regex}':\n"
                            "${first_error}")
    endif()
endforeach()

execute_process(
    COMMAND ${CXX} ${flags} -Wall -Wextra -DFLAMECPP_FIXED ${SOURCE}
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT "${out}${err}" STREQUAL "")
    message(FATAL_ERROR "${SOURCE} with -DFLAMECPP_FIXED (the fixed twin) must compile "
                        "cleanly, but:\n${out}${err}")
endif()
message(STATUS "failed as expected; the fixed twin compiles")
