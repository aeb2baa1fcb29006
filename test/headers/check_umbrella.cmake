# Fails when the umbrella header pulls in what must stay out of users' translation units.
# Called as: cmake -DCXX=... -DINCLUDE=... -P check_umbrella.cmake
execute_process(
    COMMAND ${CXX} -std=c++20 -M -DBOOST_ASIO_SEPARATE_COMPILATION -I${INCLUDE}
            -x c++ ${INCLUDE}/flamecpp/flamecpp.hpp
    OUTPUT_VARIABLE deps ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "g++ -M failed: ${err}")
endif()
foreach(forbidden boost/beast simdjson spdlog boost/asio/io_context.hpp boost/asio/ip/tcp.hpp
                  boost/json/)
    string(FIND "${deps}" "${forbidden}" at)
    if(NOT at EQUAL -1)
        message(FATAL_ERROR "flamecpp.hpp includes ${forbidden}; keep it out of public headers")
    endif()
endforeach()
message(STATUS "umbrella header is clean")
