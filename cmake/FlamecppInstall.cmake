# install() + an exported package, so that a user's project can
#   find_package(flamecpp CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE flamecpp::flamecpp)
#   target_link_libraries(app_tests PRIVATE flamecpp::testing GTest::gtest_main)
include(CMakePackageConfigHelpers)

install(TARGETS flamecpp flamecpp_testing EXPORT flamecppTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/flamecpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT flamecppTargets
        NAMESPACE flamecpp::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flamecpp)
configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/flamecppConfig.cmake.in
    ${PROJECT_BINARY_DIR}/flamecppConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flamecpp)
write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/flamecppConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES
        ${PROJECT_BINARY_DIR}/flamecppConfig.cmake
        ${PROJECT_BINARY_DIR}/flamecppConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/flamecpp)
