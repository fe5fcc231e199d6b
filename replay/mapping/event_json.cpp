// simdjson on-demand -> JsonNode. Depth is bounded so a hostile line cannot exhaust the stack.
#include "replay/mapping/event_json.h"

#include <simdjson.h>

#include "src/util/json_writer.h"

namespace auditpitr::replay {
namespace {

namespace od = simdjson::ondemand;
constexpr int max_depth = 64;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

simdjson::error_code read_value(od::value value, JsonNode& node, int depth);

simdjson::error_code read_object(od::object object, JsonNode& node, int depth) {
  node.kind = JsonNode::Kind::object;
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    node.members.emplace_back(std::string(key), JsonNode{});
    if (auto error = read_value(field.value(), node.members.back().second, depth + 1)) return error;
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_array(od::array array, JsonNode& node, int depth) {
  node.kind = JsonNode::Kind::array;
  for (auto item : array) {
    od::value v;
    if (auto error = item.get(v)) return error;
    node.items.emplace_back();
    if (auto error = read_value(v, node.items.back(), depth + 1)) return error;
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_value(od::value value, JsonNode& node, int depth) {
  if (depth > max_depth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto error = value.get_object().get(object)) return error;
      return read_object(object, node, depth);
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = value.get_array().get(array)) return error;
      return read_array(array, node, depth);
    }
    case od::json_type::string: {
      std::string_view text;
      if (auto error = value.get_string().get(text)) return error;
      node.kind = JsonNode::Kind::string;
      node.text = std::string(text);
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      od::number_type number_type;
      if (auto error = value.get_number_type().get(number_type)) return error;
      std::string_view raw = value.raw_json_token();
      bool whole = number_type != od::number_type::floating_point_number;
      node.kind = whole ? JsonNode::Kind::integer : JsonNode::Kind::number;
      node.text = std::string(trim(raw));  // as logged: big integers stay exact
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (auto error = value.get_bool().get(flag)) return error;
      node.kind = JsonNode::Kind::boolean;
      node.text = flag ? "true" : "false";
      return simdjson::SUCCESS;
    }
    case od::json_type::null:
      if (!value.is_null()) return simdjson::INCORRECT_TYPE;
      node.kind = JsonNode::Kind::null;
      return simdjson::SUCCESS;
  }
  return simdjson::INCORRECT_TYPE;
}

void write_node(const JsonNode& node, JsonWriter& out) {
  switch (node.kind) {
    case JsonNode::Kind::null: out.null(); break;
    case JsonNode::Kind::boolean: out.value(node.text == "true"); break;
    case JsonNode::Kind::integer:
    case JsonNode::Kind::number: out.value(std::stod(node.text)); break;
    case JsonNode::Kind::string: out.value(node.text); break;
    case JsonNode::Kind::object:
      out.begin_object();
      for (const auto& [key, child] : node.members) {
        out.key(key);
        write_node(child, out);
      }
      out.end_object();
      break;
    case JsonNode::Kind::array:
      out.begin_array();
      for (const auto& child : node.items) write_node(child, out);
      out.end_array();
      break;
  }
}

// Compact JSON; numbers keep their logged text (JsonWriter would round-trip them through double).
std::string compact_json(const JsonNode& node) {
  switch (node.kind) {
    case JsonNode::Kind::integer:
    case JsonNode::Kind::number: return node.text;
    case JsonNode::Kind::object: {
      std::string out = "{";
      for (const auto& [key, child] : node.members)
        out += (out.size() > 1 ? "," : "") + json_quote(key) + ":" + compact_json(child);
      return out + "}";
    }
    case JsonNode::Kind::array: {
      std::string out = "[";
      for (const auto& child : node.items) out += (out.size() > 1 ? "," : "") + compact_json(child);
      return out + "]";
    }
    default: {
      JsonWriter w(0);
      write_node(node, w);
      return w.str();
    }
  }
}

}  // namespace

const JsonNode* JsonNode::find(std::string_view key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

Value JsonNode::to_value() const {
  switch (kind) {
    case Kind::null: return Value::null();
    case Kind::boolean: return Value::of(Value::Kind::boolean, text);
    case Kind::integer: return Value::of(Value::Kind::integer, text);
    case Kind::number: return Value::of(Value::Kind::number, text);
    case Kind::string: return Value::of(Value::Kind::string, text);
    case Kind::object:
    case Kind::array: return Value::of(Value::Kind::json, compact_json(*this));
  }
  return Value::null();
}

bool parse_event_json(std::string_view json, JsonNode& root, std::string& error) {
  thread_local od::parser parser;
  root = JsonNode{};
  od::document doc;
  auto result = parser.iterate(json.data(), json.size(), json.size() + simdjson::SIMDJSON_PADDING);
  if (auto e = std::move(result).get(doc)) {
    error = simdjson::error_message(e);
    return false;
  }
  od::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) {
    error = "not a JSON object";
    return false;
  }
  if (auto e = read_object(object, root, 0)) {
    error = simdjson::error_message(e);
    return false;
  }
  return true;
}

bool parse_json_text(const std::string& text, JsonNode& root, std::string& error) {
  simdjson::padded_string padded(text);
  return parse_event_json(std::string_view(padded.data(), padded.size()), root, error);
}

}  // namespace auditpitr::replay
