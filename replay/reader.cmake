# The audit-log reader: time parsing, log discovery, line splitting and parsing, the merged stream.
list(APPEND AUDITPITR_REPLAY_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/time_parse.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_files.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_line.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_line_haswell.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_line_fast.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_line_flat.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_line_flat_avx2.cpp
  ${CMAKE_CURRENT_LIST_DIR}/line_splitter.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/event_stream.cpp
)
# simdjson's on-demand API is compiled for one CPU kernel per translation unit: this one gets
# AVX2 and is chosen at run time only on CPUs that have it (LineParser's constructor).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/log_line_haswell.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mbmi;-mbmi2;-mpclmul;-mlzcnt")
endif()
