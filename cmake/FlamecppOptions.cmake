# Build switches, warnings, sanitizers and the compiler launcher.
include(GNUInstallDirs)

option(FLAMECPP_BUILD_TESTS "Build the tests" ${PROJECT_IS_TOP_LEVEL})
option(FLAMECPP_BUILD_SAMPLES "Build the sample apps" ${PROJECT_IS_TOP_LEVEL})
option(FLAMECPP_BUILD_BENCH "Build the benchmark reference servers" ${PROJECT_IS_TOP_LEVEL})
option(FLAMECPP_INSTALL "Add install rules and the exported package" ${PROJECT_IS_TOP_LEVEL})
option(FLAMECPP_WERROR "Treat warnings as errors" OFF)
set(FLAMECPP_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined")
option(FLAMECPP_TIDY "Run clang-tidy (.clang-tidy) on the library's sources as they compile" OFF)
option(FLAMECPP_FUZZ "Build the libFuzzer targets under fuzz/ (clang only)" OFF)

set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

find_program(FLAMECPP_CCACHE ccache)
if(FLAMECPP_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${FLAMECPP_CCACHE}")
endif()

if(FLAMECPP_SANITIZE)
    add_compile_options(-fsanitize=${FLAMECPP_SANITIZE} -fno-omit-frame-pointer
                        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${FLAMECPP_SANITIZE})
endif()

if(FLAMECPP_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "FLAMECPP_FUZZ needs clang (libFuzzer): use the `fuzz` preset")
    endif()
    # Coverage instrumentation for everything; only the fuzz targets link libFuzzer's main.
    # clang 14 cannot assemble -fsanitize=function checks next to coverage counters in
    # coroutine functions ("Cannot represent a difference across sections"), so that one
    # UBSan check is off in this build; GCC's UBSan, in the `debug` preset, has no such check anyway.
    add_compile_options(-fsanitize=fuzzer-no-link -fno-sanitize=function)
endif()

# High warnings on our own targets; Boost, simdjson and GTest come in as system headers.
function(flamecpp_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
        -Wcast-align -Wimplicit-fallthrough
        # GCC 12 warns on designated initializers that leave members to their defaults
        # ({.json = ...} for RequestOptions, {.http_only = true} for CookieOptions), which is
        # their whole point; clang and later GCCs do not.
        $<$<CXX_COMPILER_ID:GNU>:-Wno-missing-field-initializers>
        $<$<BOOL:${FLAMECPP_WERROR}>:-Werror>)
endfunction()
