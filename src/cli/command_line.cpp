// parse_command_line: each kind of CLI11 ParseError said the way auditpitr says its errors.
#include "src/cli/command_line.h"

#include <algorithm>
#include <cctype>

#include "src/error.h"
#include "src/util/suggest.h"

namespace auditpitr::cli {
namespace {

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a; a = a->get_parent())
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      for (const auto& s : o->get_snames()) names.push_back("-" + s);
    }
  return names;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string help_hint(const std::string& command) { return "'" + command + " --help' lists its options and examples"; }

const CLI::App* chosen_command(const CLI::App& app) {
  auto parsed = app.get_subcommands();
  return parsed.empty() ? nullptr : parsed.front();
}

/// Words CLI11 did not use, in the order they were typed.
std::vector<std::string> unused_words(const CLI::App& app) {
  std::vector<std::string> words = app.remaining(false);
  if (const CLI::App* cmd = chosen_command(app))
    for (const auto& w : cmd->remaining(false)) words.push_back(w);
  return words;
}

Error unexpected_word(const CLI::App& app, const CLI::App& cmd, const std::string& word) {
  std::string command = "auditpitr " + cmd.get_name();
  if (word.size() > 1 && word[0] == '-') {
    std::string option = word.substr(0, word.find('='));
    return usage_error(
        "unknown option '" + option + "' for '" + command + "'" + did_you_mean(option, option_names(cmd)),
        help_hint(command));
  }
  auto commands = command_names(app);
  if (std::find(commands.begin(), commands.end(), word) != commands.end())
    return usage_error("unexpected argument '" + word + "' after '" + command + "'",
                       "run one command at a time: 'auditpitr " + cmd.get_name() + "', then 'auditpitr " + word + "'");
  auto positionals = cmd.get_options([](const CLI::Option* o) { return o->get_positional(); });
  std::string takes = positionals.empty() ? "'" + command + "' takes no arguments besides its options"
                                          : "'" + command + "' takes one " + upper(positionals.front()->get_name());
  return usage_error("unexpected argument '" + word + "' for '" + command + "'",
                     takes + " (quote a value that holds spaces); " + help_hint(command));
}

Error no_command(const CLI::App& app, const std::vector<std::string>& words) {
  for (const auto& word : words) {
    if (word.size() > 1 && word[0] == '-')
      return usage_error(
          "unknown option '" + word.substr(0, word.find('=')) + "'" + did_you_mean(word, option_names(app)),
          "'auditpitr --help' lists the commands and the options they all take");
    return usage_error("unknown command '" + word + "'" + did_you_mean(word, command_names(app)),
                       "'auditpitr --help' lists the commands");
  }
  return usage_error("no command given",
                     "'auditpitr --help' lists the commands; 'auditpitr demo' tries them all on sample data");
}

Error missing_value(const CLI::App& cmd) {
  std::string command = "auditpitr " + cmd.get_name();
  for (const CLI::Option* o : cmd.get_options()) {
    if (!o->get_required() || o->count() > 0) continue;
    if (o->get_positional()) {
      std::string name = upper(o->get_name());
      std::string hint = "usage: '" + command + " [OPTIONS] " + name + "'";
      if (name == "STAMP") hint += "; 'auditpitr list' shows the stamps, 'latest' names the newest";
      return usage_error("missing " + name + " for '" + command + "': " + o->get_description(), hint);
    }
    return usage_error("missing option " + o->get_name() + " for '" + command + "': " + o->get_description(),
                       help_hint(command));
  }
  return usage_error(std::string(CLI::RequiredError("").what()), help_hint(command));
}

std::string lowercase_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

Error translate(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* cmd = chosen_command(app);
  if (!cmd) return no_command(app, app.remaining(false));
  std::string command = "auditpitr " + cmd->get_name();
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    auto words = unused_words(app);
    if (!words.empty()) return unexpected_word(app, *cmd, words.front());
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e)) return missing_value(*cmd);
  std::string what = e.what();
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && what.find(" missing") != std::string::npos)
    return usage_error("option " + what.substr(0, what.find(':')) + " of '" + command + "' needs a value",
                       help_hint(command));
  const std::string convert = "Could not convert: ";  // "Could not convert: --jobs = x"
  std::size_t equals = what.find(" = ");
  if (what.rfind(convert, 0) == 0 && equals != std::string::npos)
    return usage_error("invalid value '" + what.substr(equals + 3) + "' for option " +
                           what.substr(convert.size(), equals - convert.size()) + " of '" + command + "'",
                       help_hint(command));
  std::size_t colon = what.find(": ");
  if ((dynamic_cast<const CLI::ValidationError*>(&e) || dynamic_cast<const CLI::ConversionError*>(&e)) &&
      colon != std::string::npos && what[0] == '-') {
    std::string detail = what.substr(colon + 2);  // CLI11 prints ranges up to DBL_MAX: keep short ones only
    return usage_error("invalid value for option " + what.substr(0, colon) + " of '" + command + "'" +
                           (detail.size() < 80 ? ": " + lowercase_first(detail) : ""),
                       help_hint(command));
  }
  return usage_error(command + ": " + lowercase_first(what), help_hint(command));
}

// --json before the command's name: set the command's own --json, or say it has none.
void pass_json_to(CLI::App& cmd) {
  CLI::Option* json = cmd.get_option_no_throw("--json");
  if (!json) throw usage_error("'auditpitr " + cmd.get_name() + "' has no JSON output", "run it without --json");
  json->add_result("true");
  json->run_callback();
}

}  // namespace

void add_global_options(CLI::App& app, GlobalOptions& global) {
  app.fallthrough();  // inherited by the subcommands: 'auditpitr list -c FILE' works as 'auditpitr -c FILE list'
  app.get_formatter()->label("SUBCOMMAND", "COMMAND");  // the docs' word, and the hints' ('auditpitr COMMAND --help')
  app.add_option("-c,--config", global.config_path, "configuration file (TOML)")
      ->type_name("FILE")
      ->capture_default_str()
      ->envname("AUDITPITR_CONFIG");
  app.add_flag("-v,--verbose", global.verbose, "show the underlying cause of errors");
  app.add_option("--identity", global.identity_path,
                 "age identity file that decrypts encrypted backups (a path, never the key; replaces [backup] "
                 "identity_file)")
      ->type_name("FILE");
  app.add_flag("--json", global.json, "print one JSON object (the commands that have --json)");
}

bool json_requested(int argc, char** argv) {
  for (int i = 1; i < argc && std::string(argv[i]) != "--"; ++i)
    if (std::string(argv[i]) == "--json") return true;
  return false;
}

bool parse_command_line(CLI::App& app, const GlobalOptions& global, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e), false;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e), false;
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e), false;
  } catch (const CLI::ParseError& e) {
    throw translate(app, e);
  }
  auto parsed = app.get_subcommands();
  if (global.json && !parsed.empty()) pass_json_to(*parsed.front());
  return true;
}

}  // namespace auditpitr::cli
