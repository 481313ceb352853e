# sonde_module(NAME SRCS a.cpp b.cpp DEPS other_module lib)
# Declares the static library sonde_<NAME>; sources include each other as "NAME/x.hpp".
function(sonde_module name)
  cmake_parse_arguments(M "" "" "SRCS;DEPS" ${ARGN})
  add_library(sonde_${name} STATIC ${M_SRCS})
  target_include_directories(sonde_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${CMAKE_BINARY_DIR}/generated)
  target_compile_options(sonde_${name} PRIVATE ${SONDE_WARNINGS})
  target_compile_definitions(sonde_${name} PUBLIC BOOST_ASIO_NO_DEPRECATED)
  target_link_libraries(sonde_${name} PUBLIC ${M_DEPS})
endfunction()

# sonde_test(NAME [SERIAL] SRCS a_test.cpp DEPS sonde_x)
# One GoogleTest binary per module; tests are registered with CTest one by one. SERIAL: its
# tests run alone (load tests whose timing another test running beside them would distort).
function(sonde_test name)
  cmake_parse_arguments(T "SERIAL" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${T_SRCS})
  target_compile_options(${name} PRIVATE ${SONDE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE SONDE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             SONDE_BINARY_DIR="${CMAKE_BINARY_DIR}")
  if(T_SERIAL)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE)
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120)
  endif()
endfunction()
