# Unit tests of the foundation: no server needed.
auditpitr_add_test(unit_foundation_tests
  SOURCES unit/config_test.cpp unit/catalog_test.cpp unit/retention_test.cpp unit/gzip_test.cpp
          unit/process_runner_test.cpp unit/conninfo_test.cpp unit/json_writer_test.cpp unit/checksum_test.cpp
          unit/format_test.cpp unit/fs_test.cpp unit/verified_dump_test.cpp unit/db_failure_test.cpp
          unit/server_version_test.cpp unit/tar_test.cpp unit/outcome_record_test.cpp
          unit/spill_test.cpp unit/handoff_test.cpp unit/exit_memory_test.cpp
          unit/heap_test.cpp unit/run_beside_test.cpp
  LIBS auditpitr_ops)
