// "did you mean …?" for misspelt names: commands, options, configuration keys, aliases.
#pragma once

#include <string>
#include <vector>

namespace auditpitr {

/// The candidate closest to `word` by edit distance (case-insensitive), or "" when none is close
/// enough to be a likely misspelling (at most a third of the word's length, at least 1, at most 3).
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

/// "; did you mean 'backup'?" for closest_name's answer, "" when there is none.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates,
                         const std::string& what = {});

}  // namespace auditpitr
