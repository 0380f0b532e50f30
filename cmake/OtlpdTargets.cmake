# Helpers that give every otlpd target the same flags: warnings as errors in our code,
# sanitizers when asked for, and GoogleTest/Benchmark wiring for *_test.cc / *_bench.cc.

set(OTLPD_WARNINGS -Wall -Wextra -Wpedantic -Werror -Wno-missing-field-initializers)

if(OTLPD_SANITIZE)
  string(REPLACE ";" "," _otlpd_san "${OTLPD_SANITIZE}")
  add_compile_options(-fsanitize=${_otlpd_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_otlpd_san})
  if("thread" IN_LIST OTLPD_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Asio's handlers use std::atomic_thread_fence, which g++ warns TSan cannot model; our own
    # code avoids fences under TSan (csp/scheduler.cc, full_fence).
    add_compile_options(-Wno-tsan)
  endif()
endif()

# otlpd_defaults(<target>): our warning set on a target we own.
function(otlpd_defaults target)
  target_compile_options(${target} PRIVATE ${OTLPD_WARNINGS})
endfunction()

# otlpd_test(<name> SOURCES ... LIBS ...): a GoogleTest binary registered with CTest.
# Test cases are listed at test time, so a build never runs test code.
function(otlpd_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if("thread" IN_LIST OTLPD_SANITIZE AND NOT "${T_SOURCES}" MATCHES "tsan_suppressions")
    list(APPEND T_SOURCES ${PROJECT_SOURCE_DIR}/cmake/tsan_default_suppressions.cc)
  endif()
  add_executable(${name} ${T_SOURCES})
  otlpd_defaults(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()

# otlpd_bench(<name> SOURCES ... LIBS ...): a Google Benchmark binary in build/bin.
function(otlpd_bench name)
  if(NOT OTLPD_BUILD_BENCH)
    return()
  endif()
  cmake_parse_arguments(B "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  otlpd_defaults(${name})
  target_link_libraries(${name} PRIVATE ${B_LIBS} benchmark::benchmark)
endfunction()
