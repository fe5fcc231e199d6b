// Output: colour and progress decisions made once, from isatty and NO_COLOR.
#include "src/cli/output.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "src/util/interrupt.h"

namespace auditpitr::cli {

Output::Output(bool json, bool data_on_stdout) : json_(json), human_(data_on_stdout ? std::cerr : std::cout) {
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  colour_ = ::isatty(data_on_stdout ? 2 : 1) && !(no_colour && *no_colour) && !(term && std::string(term) == "dumb");
  progress_ = ::isatty(2) != 0;
}

void Output::tagged(const char* tag, const char* colour, const std::string& text) const {
  if (json_) return;
  if (colour_) {
    human_ << colour << "[" << tag << "]\033[0m " << text << "\n";
  } else {
    human_ << "[" << tag << "] " << text << "\n";
  }
  human_.flush();
}

void Output::info(const std::string& text) const { tagged("INFO", "\033[34m", text); }
void Output::success(const std::string& text) const { tagged("SUCCESS", "\033[32m", text); }
void Output::warning(const std::string& text) const { tagged("WARNING", "\033[33m", text); }

void Output::line(const std::string& text) const {
  if (json_) return;
  human_ << text << "\n";
  human_.flush();
}

void Output::progress(const std::string& text) const {
  if (!progress_) return;
  std::cerr << "\r\033[K" << text << std::flush;
}

void Output::clear_progress() const {
  if (progress_) std::cerr << "\r\033[K" << std::flush;
}

void Output::json(const std::string& document) const {
  if (!json_) return;
  std::cout << document << "\n";
  std::cout.flush();
}

std::string Output::bold(const std::string& text) const { return colour_ ? "\033[1m" + text + "\033[0m" : text; }
std::string Output::red(const std::string& text) const { return colour_ ? "\033[31m" + text + "\033[0m" : text; }

bool Output::confirmed(const std::string& question) const {
  std::ostream& ask = json_ ? std::cerr : human_;
  ask << question << " Type 'yes' to proceed: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  throw_if_interrupted();
  return answer == "yes";
}

bool stdin_is_terminal() { return ::isatty(0) != 0; }

}  // namespace auditpitr::cli
