// The ChangeSink behind `replay --sql FILE`: the statements replay would run, with every logged
// value as an escaped literal, in one transaction, for psql (docs/replay.md, "Dry run and SQL script").
#pragma once

#include <string>

#include "replay/apply/applier.h"
#include "replay/apply/change_sink.h"
#include "replay/apply/target_catalog.h"
#include "src/util/fs.h"

namespace auditpitr::replay {

class ScriptSink : public ChangeSink {
 public:
  /// Writes to `file` as it goes (memory stays bounded); the caller commits the file after finish().
  ScriptSink(AtomicFile& file, const TargetCatalog& catalog, ConflictPolicy policy, const std::string& header_comment);

  void begin_batch() override {}
  bool apply_all(const std::vector<const RowChange*>& changes, std::vector<ChangeOutcome>& outcomes,
                 std::optional<std::size_t>& refused_change) override;
  std::vector<ChangeOutcome> apply_event(const std::vector<const RowChange*>& changes) override;
  void commit_batch(const ReplayPosition&, uint64_t) override { flush(); }
  void rollback_batch() override {}

  /// Writes the script's end: `closing_sql` (the key sequences moved as replay moves them), then COMMIT.
  void finish(const std::string& closing_sql = {});

 private:
  /// Batches statements into one write per batch.
  void flush();

  AtomicFile& file_;
  const TargetCatalog& catalog_;
  std::string text_;
};

}  // namespace auditpitr::replay
