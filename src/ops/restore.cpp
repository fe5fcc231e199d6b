// run_restore: the order of the phases. Every temporary copy is restored and verified before any
// swap, so one bad database stops the whole restore with nothing changed.
#include <chrono>
#include <ctime>

#include "replay/apply/replay_state.h"
#include "replay/log/time_parse.h"
#include "src/error.h"
#include "src/ops/restore_internal.h"
#include "src/util/pause_point.h"
#include "verify/manifest.h"

namespace auditpitr::ops {
namespace {

using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> hook_environment(const RestorePlan& plan) {
  std::string names;
  for (const auto& t : plan.targets) names += (names.empty() ? "" : " ") + t.target_dbname;
  return {{"AUDITPITR_STAMP", plan.stamp}, {"AUDITPITR_DATABASES", names}};
}

void drop_temporaries(std::vector<std::unique_ptr<detail::AdminSession>>& sessions,
                      const std::vector<detail::TemporaryRestore>& restored, std::size_t from);
void swap_one(const RestorePlan& plan, std::vector<detail::TemporaryRestore>& restored,
              std::vector<std::unique_ptr<detail::AdminSession>>& sessions, std::size_t i, const Reporter& reporter,
              RestoreResult& result);

// Whole-database restores (into the configured databases or --into).
void restore_databases(const Config& config, const RestorePlan& plan, pg::ProcessRunner& runner,
                       const Reporter& reporter, RestoreResult& result) {
  std::vector<std::unique_ptr<detail::AdminSession>> sessions;
  for (const auto& target : plan.targets) {
    sessions.push_back(std::make_unique<detail::AdminSession>(target.database->connect_info()));
    auto& admin = *sessions.back();
    admin.lock_target(target.target_dbname);
    for (auto& name : detail::clean_leftovers(admin, target.target_dbname, target.backup.stamp, reporter))
      result.cleaned_leftovers.push_back(name);
    if (!plan.request.into.empty() && admin.database_exists(target.target_dbname))
      throw usage_error(
          "the database '" + target.target_dbname + "' already exists: --into restores into a new database",
          "choose another name, or drop it first");
    if (!plan.request.into.empty()) continue;  // --into replaces nothing: no kept copy
    std::string kept = before_restore_name(target.target_dbname, target.backup.stamp);
    if (admin.database_exists(kept))
      throw runtime_error("'" + kept + "' already exists: it is the kept copy of an earlier restore of this backup",
                          "undo that restore (auditpitr restore --undo " + target.backup.stamp +
                              ") or drop the copy (auditpitr kept --drop " + target.backup.stamp +
                              "), then run this again");
  }
  std::vector<detail::TemporaryRestore> restored;
  try {
    for (std::size_t i = 0; i < plan.targets.size(); ++i)
      restored.push_back(
          detail::restore_into_temporary(config, plan.targets[i], plan.request, *sessions[i], runner, reporter));
  } catch (...) {
    drop_temporaries(sessions, restored, 0);
    throw;
  }
  for (std::size_t i = 0; i < restored.size(); ++i) {
    try {
      swap_one(plan, restored, sessions, i, reporter, result);
    } catch (...) {
      // Databases already swapped stay restored (and undoable); the others keep their original.
      drop_temporaries(sessions, restored, i);
      throw;
    }
  }
}

void drop_temporaries(std::vector<std::unique_ptr<detail::AdminSession>>& sessions,
                      const std::vector<detail::TemporaryRestore>& restored, std::size_t from) {
  for (std::size_t i = from; i < restored.size(); ++i) {
    try {
      sessions[i]->drop_marked_database(restored[i].temporary, CopyKind::restoring, restored[i].result.stamp);
    } catch (const std::exception&) {
      // The next restore of that database drops it.
    }
  }
}

/// The restored copy records which backup it holds (auditpitr.restored_from), before the swap so
/// that the record arrives with it: replay starts from that backup's snapshot (docs/replay.md).
/// Without a manifest the stamp (local time, when the old script started) stands for it.
void record_backup(const RestoreTarget& target, const std::string& temporary) {
  std::optional<replay::TimePoint> snapshot;
  if (target.backup.has_manifest)
    snapshot = replay::parse_rfc3339(verify::load_manifest(target.backup.manifest_path).snapshot_time_utc);
  if (!snapshot) snapshot = replay::parse_cli_time(target.backup.stamp, "the backup's stamp");
  replay::record_restored_backup(target.database->connect_info().with_dbname(temporary), target.backup.stamp,
                                 *snapshot);
}

void swap_one(const RestorePlan& plan, std::vector<detail::TemporaryRestore>& restored,
              std::vector<std::unique_ptr<detail::AdminSession>>& sessions, std::size_t i, const Reporter& reporter,
              RestoreResult& result) {
  auto& done = restored[i];
  const auto& target = plan.targets[i];
  record_backup(target, done.temporary);
  bool replaces = plan.request.into.empty() && sessions[i]->database_exists(target.target_dbname);
  std::string kept = replaces ? before_restore_name(target.target_dbname, target.backup.stamp) : "";
  auto start = Clock::now();
  detail::swap_into_place(*sessions[i], target.target_dbname, done.temporary, kept,
                          {CopyKind::kept, target.backup.stamp, std::time(nullptr)}, reporter, plan.request.into_mark);
  done.result.phases.swap = std::chrono::duration<double>(Clock::now() - start).count();
  pause_point("swapped");
  done.result.kept_copy = kept;
  reporter.success(target.target_dbname + " restored from " + target.backup.stamp + " (" + done.result.verification +
                   ")");
  result.databases.push_back(done.result);
}

}  // namespace

RestoreResult run_restore(const Config& config, const RestorePlan& plan, pg::ProcessRunner& runner,
                          const Reporter& reporter) {
  // Hooks surround whatever writes to the configured databases; --into leaves them alone.
  bool hooks = plan.request.into.empty();
  auto env = hook_environment(plan);
  if (hooks && !config.pre_restore_hook.empty() &&
      detail::run_hook("pre_restore", config.pre_restore_hook, env, runner, reporter) != 0) {
    env["AUDITPITR_RESTORE_RESULT"] = "failure";
    if (!config.post_restore_hook.empty())
      detail::run_hook("post_restore", config.post_restore_hook, env, runner, reporter);
    throw runtime_error("the pre_restore hook failed: nothing was restored", "its output is shown above");
  }
  RestoreResult result;
  try {
    if (!plan.request.tables.empty()) {
      for (const auto& target : plan.targets) {
        try {
          result.databases.push_back(detail::restore_tables(config, target, plan.request, runner, reporter));
        } catch (const Error& e) {
          // Each database commits on its own: say which ones already have the rows.
          if (result.databases.empty()) throw;
          std::string done;
          for (const auto& d : result.databases) done += (done.empty() ? "'" : "', '") + d.dbname;
          throw Error(e.kind(), std::string(e.what()) + " (" + done + "' restored before this failure, and kept)",
                      e.hint(), e.cause());
        }
      }
    } else {
      // Archives are extracted beside their folders first, databases restored and swapped, and the
      // folders swapped last: a failure before that leaves every folder as it was.
      std::vector<StagedFiles> staged;
      try {
        for (const auto& target : plan.files) staged.push_back(stage_files(target, runner, reporter));
        if (!plan.targets.empty()) restore_databases(config, plan, runner, reporter, result);
      } catch (...) {
        for (const auto& s : staged) discard_staged(s);
        throw;
      }
      for (std::size_t i = 0; i < staged.size(); ++i) {
        try {
          result.files.push_back(swap_in_files(staged[i], reporter));
        } catch (...) {
          for (std::size_t j = i; j < staged.size(); ++j) discard_staged(staged[j]);
          throw;
        }
      }
    }
  } catch (...) {
    env["AUDITPITR_RESTORE_RESULT"] = "failure";
    // The hook runs even so (e.g. to start the services again); the restore's own error wins.
    if (hooks && !config.post_restore_hook.empty()) {
      try {
        detail::run_hook("post_restore", config.post_restore_hook, env, runner, reporter);
      } catch (const Error& e) {
        reporter.warning(std::string("the post_restore hook could not run: ") + e.what());
      }
    }
    throw;
  }
  env["AUDITPITR_RESTORE_RESULT"] = "success";
  if (hooks && !config.post_restore_hook.empty() &&
      detail::run_hook("post_restore", config.post_restore_hook, env, runner, reporter) != 0)
    throw runtime_error("the restore succeeded but the post_restore hook failed",
                        "its output is shown above; start the services by hand");
  return result;
}

}  // namespace auditpitr::ops
