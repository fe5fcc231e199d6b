# Rules loader fuzz target: TOML parse + structural and catalog validation (no database).
# The libraries it exercises are instrumented too, or libFuzzer would see only the harness.
foreach(_lib auditpitr_replay_log auditpitr_replay_mapping auditpitr_util)
  target_compile_options(${_lib} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
endforeach()
add_executable(mapping_rules_fuzz ${CMAKE_CURRENT_LIST_DIR}/mapping_rules_fuzz.cpp)
target_compile_options(mapping_rules_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(mapping_rules_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(mapping_rules_fuzz PRIVATE auditpitr_replay_mapping)
# The Mapper against its reference, and JsonDocument's parser against simdjson, on any line.
add_executable(mapping_fuzz ${CMAKE_CURRENT_LIST_DIR}/mapping_fuzz.cpp
               ${PROJECT_SOURCE_DIR}/tests/unit/replay/mapping/mapping_reference.cpp)
target_compile_options(mapping_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(mapping_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(mapping_fuzz PRIVATE auditpitr_replay_mapping)
