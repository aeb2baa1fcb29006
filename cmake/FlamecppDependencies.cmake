# Dependencies, all from Debian 12 packages (scripts/install-deps installs them).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url program_options)
find_package(spdlog REQUIRED)
find_package(simdjson REQUIRED)
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto SSL)  # TLS; SHA-1, HMAC-SHA256, RAND_bytes
find_package(ZLIB REQUIRED)  # the GZip middleware
# The broadcast hub's Redis link: hiredis's RESP reader and command formatter (libhiredis-dev).
find_package(PkgConfig REQUIRED)
pkg_check_modules(hiredis REQUIRED IMPORTED_TARGET hiredis)
