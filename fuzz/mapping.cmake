# Rules loader fuzz target: TOML parse + structural and catalog validation (no database).
# The libraries it exercises are instrumented too, or libFuzzer would see only the harness.
target_compile_options(auditpitr_replay PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
target_compile_options(auditpitr_core PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
add_executable(mapping_rules_fuzz ${CMAKE_CURRENT_LIST_DIR}/mapping_rules_fuzz.cpp)
target_compile_options(mapping_rules_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(mapping_rules_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_libraries(mapping_rules_fuzz PRIVATE auditpitr_replay)
