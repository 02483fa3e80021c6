# Helpers shared by every subsystem's CMakeLists.txt.

# hm_add_library(NAME SOURCES... [LIBS ...]) — a subsystem library hm_NAME,
# its folder on the include path of whoever links it.
function(hm_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_library(hm_${name} STATIC ${A_SOURCES})
  target_include_directories(hm_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(hm_${name} PUBLIC ${A_LIBS})
  target_compile_definitions(hm_${name} PRIVATE
    HM_SOURCE_DATA_DIR="${HM_SOURCE_DATA_DIR}"
    HM_INSTALL_DATA_DIR="${HM_INSTALL_DATA_DIR}"
    HM_BIN_TO_DATA="${HM_BIN_TO_DATA}")
endfunction()

# hm_add_test(NAME SOURCES... [LIBS ...] [LABELS ...] [ENV ...] [ARGS ...]
#             [TIMEOUT s])
# Tests return 77 to say "skipped" (e.g. ../shared/data absent, no
# PostgreSQL server); ctest then reports them as skipped, not passed.
function(hm_add_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;LIBS;LABELS;ENV;ARGS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBS} PkgConfig::CMOCKA m)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
  target_compile_definitions(${name} PRIVATE
    HM_SOURCE_DATA_DIR="${HM_SOURCE_DATA_DIR}"
    HM_SHARED_DATA_DIR="${HM_SHARED_DATA_DIR}"
    HM_TEST_TMPDIR="${CMAKE_CURRENT_BINARY_DIR}/tmp-${name}"
    HM_HARMONIC_EXE="$<TARGET_FILE:harmonic>")
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/tmp-${name})
  add_test(NAME ${name} COMMAND ${name} ${A_ARGS}
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77
    TIMEOUT ${A_TIMEOUT} LABELS "${A_LABELS}"
    ENVIRONMENT "HARMONIC_DATA=${HM_SOURCE_DATA_DIR};${A_ENV}")
endfunction()

# hm_add_fuzz(NAME SOURCES... [LIBS ...] [SECONDS n] [CORPUS dir])
# A libFuzzer target (only in the clang HM_FUZZ build), run by ctest for a
# bounded time so every `./run test` fuzzes the parsers of outside input.
# The source defines LLVMFuzzerTestOneInput().
function(hm_add_fuzz name)
  if(NOT HM_FUZZ)
    return()
  endif()
  cmake_parse_arguments(A "" "SECONDS;CORPUS" "SOURCES;LIBS" ${ARGN})
  if(NOT A_SECONDS)
    set(A_SECONDS 20)
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBS} m)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_compile_definitions(${name} PRIVATE
    HM_SOURCE_DATA_DIR="${HM_SOURCE_DATA_DIR}")
  set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-${name})
  file(MAKE_DIRECTORY ${work})
  set(args -max_total_time=${A_SECONDS} -rss_limit_mb=2048 -print_final_stats=1)
  add_test(NAME ${name} COMMAND ${name} ${args} ${work} ${A_CORPUS}
           WORKING_DIRECTORY ${work})
  set_tests_properties(${name} PROPERTIES TIMEOUT 600 LABELS "fuzz"
    ENVIRONMENT "HARMONIC_DATA=${HM_SOURCE_DATA_DIR}")
endfunction()
