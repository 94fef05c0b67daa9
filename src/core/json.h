// A small JSON reader (RFC 8259) for the project's data files (target descriptions). Host only.
//
//   parse_json(text, "targets/imxrt700.json") -> JsonValue tree, or an error
//   "targets/imxrt700.json:12:7: expected ',' or '}' after an object member"
//
// Accepts exactly JSON: objects, arrays, strings (all escapes, \uXXXX with surrogate pairs, encoded
// as UTF-8), numbers (the JSON grammar: no leading '+', no leading zeros, no NaN/Infinity), true,
// false, null. Rejects trailing commas, comments, duplicate object keys, unescaped control
// characters in strings, anything after the top-level value and nesting deeper than 256. A UTF-8
// byte-order mark at the start is skipped. Every value remembers its line and column (1-based) so
// that callers can name where a wrong field is.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace neutron {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  // A number written without fraction or exponent that fits int64 ("4096", "-3"; not "4096.0").
  bool is_integer() const { return type_ == Type::kNumber && is_integer_; }

  // Accessors return a neutral value (false, 0, empty) for another type; check the type first.
  bool as_bool() const { return type_ == Type::kBool && bool_; }
  double as_number() const { return type_ == Type::kNumber ? number_ : 0.0; }
  int64_t as_int() const { return is_integer() ? int_ : 0; }
  const std::string& as_string() const { return string_; }
  const std::vector<JsonValue>& as_array() const { return array_; }
  const std::vector<Member>& as_object() const { return object_; }  // in file order
  // The member named `key` of an object, or null when absent or not an object.
  const JsonValue* find(const std::string& key) const;

  int line() const { return line_; }
  int column() const { return column_; }
  // "number", "string", ... for messages.
  static const char* type_name(Type t);
  const char* type_name() const { return type_name(type_); }

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  bool is_integer_ = false;
  double number_ = 0;
  int64_t int_ = 0;
  std::string string_;
  std::vector<JsonValue> array_;
  std::vector<Member> object_;
  int line_ = 0, column_ = 0;
};

// `source_name` prefixes error messages (a file name). Errors are InvalidArgument.
StatusOr<JsonValue> parse_json(const std::string& text, const std::string& source_name);

}  // namespace neutron
