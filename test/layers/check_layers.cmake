# The request path reads top-down: every quoted #include in src/ points to the same layer or a
# lower one, and the public headers include only public headers (<flamecpp/...>, the standard
# library, Boost). A new folder must be given a layer here, or the check fails.
# Called as: cmake -DROOT=<source dir> -P check_layers.cmake
#
# Layers, lowest first:
#   0 text/ json/ websocket/ (the RFC 6455 codec) and the lone helpers log.hpp, cpus.hpp,
#     json_detail_response.hpp: no knowledge of requests in flight
#   1 http/     bytes <-> requests and responses
#   2 routing/  the route table
#   3 app/      an app's routes, components and command line
#   4 server/   workers, transport, the HTTP and WebSocket sessions
#   5 the implementations of public types at src/ top level (request.cpp, websocket.cpp, ...),
#     middleware/ (the built-in middleware) and testing/ (the test client, a user of the server)
function(layer_of path out)
    if(path MATCHES "^(text|json|websocket)/" OR path MATCHES "^(log|cpus|json_detail_response)\\.hpp$")
        set(${out} 0 PARENT_SCOPE)
    elseif(path MATCHES "^http/")
        set(${out} 1 PARENT_SCOPE)
    elseif(path MATCHES "^routing/")
        set(${out} 2 PARENT_SCOPE)
    elseif(path MATCHES "^app/")
        set(${out} 3 PARENT_SCOPE)
    elseif(path MATCHES "^server/")
        set(${out} 4 PARENT_SCOPE)
    elseif(path MATCHES "^(testing|middleware)/" OR NOT path MATCHES "/")
        set(${out} 5 PARENT_SCOPE)
    else()
        set(${out} -1 PARENT_SCOPE)
    endif()
endfunction()

set(failures "")
file(GLOB_RECURSE sources RELATIVE ${ROOT}/src ${ROOT}/src/*.cpp ${ROOT}/src/*.hpp)
foreach(file ${sources})
    layer_of(${file} own)
    if(own EQUAL -1)
        string(APPEND failures "  src/${file}: its folder has no layer in check_layers.cmake\n")
        continue()
    endif()
    file(STRINGS ${ROOT}/src/${file} includes REGEX "^#include \"")
    foreach(line ${includes})
        string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" target "${line}")
        layer_of(${target} theirs)
        if(theirs EQUAL -1 OR theirs GREATER own)
            string(APPEND failures "  src/${file} (layer ${own}) includes ${target} (layer ${theirs})\n")
        endif()
    endforeach()
endforeach()

file(GLOB_RECURSE headers ${ROOT}/include/flamecpp/*.hpp)
foreach(header ${headers})
    file(STRINGS ${header} includes REGEX "^#include")
    foreach(line ${includes})
        if(NOT line MATCHES "^#include <")
            string(APPEND failures "  ${header}: ${line} (public headers include only <...>)\n")
        endif()
    endforeach()
endforeach()

if(failures)
    message(FATAL_ERROR "includes that point up a layer:\n${failures}")
endif()
list(LENGTH sources count)
message(STATUS "${count} files in src/ include only their own layer or lower ones")
