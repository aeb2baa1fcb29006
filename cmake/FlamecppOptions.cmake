# Build switches, warnings, sanitizers and the compiler launcher.
include(GNUInstallDirs)

option(FLAMECPP_BUILD_TESTS "Build the tests" ${PROJECT_IS_TOP_LEVEL})
option(FLAMECPP_BUILD_SAMPLES "Build the sample apps" ${PROJECT_IS_TOP_LEVEL})
option(FLAMECPP_BUILD_BENCH "Build the benchmark reference servers" ${PROJECT_IS_TOP_LEVEL})
option(FLAMECPP_WERROR "Treat warnings as errors" OFF)
set(FLAMECPP_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined")

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
