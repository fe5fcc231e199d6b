// Output: colour and progress decisions made once, from isatty and NO_COLOR.
#include "src/cli/output.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "src/util/interrupt.h"
#include "src/util/json_writer.h"

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

namespace {

bool document_written = false;  // stdout carries one document: the command's, or the error's

// "format" first, so that a script can check it before reading anything else; spliced in as the
// document goes out, not into a copy of it (a replay's is 12 MB: copies cost a tenth of a second).
void write_with_format(const std::string& document) {
  if (document.rfind('{', 0) != 0) {
    std::cout << document;
    return;
  }
  std::cout << "{\n  \"format\": 1";
  if (document.find_first_not_of(" \n", 1) == document.rfind('}')) {  // {}
    std::cout << "\n}";
    return;
  }
  std::cout << ',';
  std::cout.write(document.data() + 1, static_cast<std::streamsize>(document.size() - 1));
}

// ErrorKind as one word a script can compare (kind_name is for people).
const char* kind_word(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::runtime: return "runtime";
    case ErrorKind::usage: return "usage";
    case ErrorKind::verification: return "verification";
    case ErrorKind::refused: return "refused";
    case ErrorKind::interrupted: return "interrupted";
    case ErrorKind::terminated: return "terminated";
  }
  return "error";
}

void write_document(const std::string& document) {
  write_with_format(document);
  std::cout << "\n";
  std::cout.flush();
  document_written = true;
}

}  // namespace

void Output::json(const std::string& document) const {
  if (json_) write_document(document);
}

void Output::json_streamed(const std::function<void(const std::function<void(const std::string&)>&)>& write) const {
  if (!json_) return;
  // From the first piece on stdout carries this document: a failure midway is reported on stderr
  // only (and by the exit code), not as a second document after a truncated one.
  bool first = true;
  write([&first](const std::string& piece) {
    if (piece.empty()) return;
    if (first) write_with_format(piece);
    else std::cout << piece;
    first = false;
    document_written = true;
  });
  std::cout << "\n";
  std::cout.flush();
}

void json_error(const Error& error) {
  if (document_written) return;
  JsonWriter w;
  w.begin_object().key("error").begin_object().field("kind", kind_word(error.kind()));
  w.field("exit_code", exit_code(error.kind())).field("message", std::string(error.what()));
  w.field_or_null("hint", error.hint()).end_object().end_object();
  write_document(w.str());
}

std::string Output::bold(const std::string& text) const { return colour_ ? "\033[1m" + text + "\033[0m" : text; }
std::string Output::red(const std::string& text) const { return colour_ ? "\033[31m" + text + "\033[0m" : text; }
std::string Output::green(const std::string& text) const { return colour_ ? "\033[32m" + text + "\033[0m" : text; }

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
