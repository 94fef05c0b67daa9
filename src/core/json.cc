#include "core/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace neutron {

const JsonValue* JsonValue::find(const std::string& key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const Member& m : object_)
    if (m.first == key) return &m.second;
  return nullptr;
}

const char* JsonValue::type_name(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "?";
}

// Recursive descent over the bytes of `text`. Every read is bounds-checked against `end_`.
class JsonParser {
 public:
  JsonParser(const std::string& text, const std::string& source) : p_(text.data()), end_(text.data() + text.size()), line_start_(p_), source_(source) {}

  StatusOr<JsonValue> parse_document() {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) {
      p_ += 3;
      line_start_ = p_;
    }
    JsonValue v;
    RETURN_IF_ERROR(parse_value(&v, 0));
    skip_whitespace();
    if (p_ != end_) return fail("unexpected ", describe_here(), " after the top-level value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 256;

  template <typename... Args>
  Status fail(const Args&... args) const {
    return error(Error::InvalidArgument, source_, ":", line_, ":", column(), ": ", args...);
  }
  int column() const { return int(p_ - line_start_) + 1; }

  std::string describe_here() const {
    if (p_ == end_) return "end of input";
    const unsigned char c = static_cast<unsigned char>(*p_);
    if (c >= 0x20 && c < 0x7f) return std::string("'") + char(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof(buf), "byte 0x%02x", c);
    return buf;
  }

  void skip_whitespace() {
    while (p_ != end_) {
      const char c = *p_;
      if (c == '\n') {
        ++p_;
        ++line_;
        line_start_ = p_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++p_;
      } else {
        break;
      }
    }
  }

  bool consume_literal(const char* word) {
    const size_t n = std::strlen(word);
    if (size_t(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  Status parse_value(JsonValue* v, int depth) {
    skip_whitespace();
    v->line_ = line_;
    v->column_ = column();
    if (p_ == end_) return fail("expected a value, found end of input");
    switch (*p_) {
      case '{': return parse_object(v, depth);
      case '[': return parse_array(v, depth);
      case '"':
        v->type_ = JsonValue::Type::kString;
        return parse_string(&v->string_);
      case 't':
      case 'f':
      case 'n':
        if (consume_literal("true")) {
          v->type_ = JsonValue::Type::kBool;
          v->bool_ = true;
        } else if (consume_literal("false")) {
          v->type_ = JsonValue::Type::kBool;
        } else if (consume_literal("null")) {
          v->type_ = JsonValue::Type::kNull;
        } else {
          return fail("invalid literal (expected true, false or null)");
        }
        return Status::OK();
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return parse_number(v);
        return fail("expected a value, found ", describe_here());
    }
  }

  Status parse_object(JsonValue* v, int depth) {
    if (depth >= kMaxDepth) return fail("nesting deeper than ", kMaxDepth);
    v->type_ = JsonValue::Type::kObject;
    ++p_;  // '{'
    skip_whitespace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return Status::OK();
    }
    while (true) {
      skip_whitespace();
      if (p_ == end_ || *p_ != '"') return fail("expected a member name in double quotes, found ", describe_here());
      const int key_line = line_, key_col = column();
      std::string key;
      RETURN_IF_ERROR(parse_string(&key));
      for (const auto& m : v->object_)
        if (m.first == key)
          return error(Error::InvalidArgument, source_, ":", key_line, ":", key_col, ": duplicate member \"", key, "\"");
      skip_whitespace();
      if (p_ == end_ || *p_ != ':') return fail("expected ':' after member name \"", key, "\", found ", describe_here());
      ++p_;
      JsonValue member;
      RETURN_IF_ERROR(parse_value(&member, depth + 1));
      v->object_.emplace_back(std::move(key), std::move(member));
      skip_whitespace();
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ != end_ && *p_ == '}') {
        ++p_;
        return Status::OK();
      }
      return fail("expected ',' or '}' after an object member, found ", describe_here());
    }
  }

  Status parse_array(JsonValue* v, int depth) {
    if (depth >= kMaxDepth) return fail("nesting deeper than ", kMaxDepth);
    v->type_ = JsonValue::Type::kArray;
    ++p_;  // '['
    skip_whitespace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return Status::OK();
    }
    while (true) {
      JsonValue element;
      RETURN_IF_ERROR(parse_value(&element, depth + 1));
      v->array_.push_back(std::move(element));
      skip_whitespace();
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ != end_ && *p_ == ']') {
        ++p_;
        return Status::OK();
      }
      return fail("expected ',' or ']' after an array element, found ", describe_here());
    }
  }

  static void append_utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(char(cp));
    } else if (cp < 0x800) {
      out->push_back(char(0xC0 | (cp >> 6)));
      out->push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(char(0xE0 | (cp >> 12)));
      out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(char(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(char(0xF0 | (cp >> 18)));
      out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  // Reads the 4 hex digits after "\u" (p_ at the first digit).
  Status parse_hex4(uint32_t* out) {
    if (end_ - p_ < 4) return fail("incomplete \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = p_[i];
      uint32_t d;
      if (c >= '0' && c <= '9') d = uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') d = uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') d = uint32_t(c - 'A' + 10);
      else return fail("invalid hex digit in \\u escape");
      v = v * 16 + d;
    }
    p_ += 4;
    *out = v;
    return Status::OK();
  }

  Status parse_string(std::string* out) {
    ++p_;  // opening quote
    while (true) {
      if (p_ == end_) return fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return Status::OK();
      }
      if (c < 0x20) return fail("control character ", describe_here(), " in a string (escape it)");
      if (c != '\\') {
        out->push_back(char(c));
        ++p_;
        continue;
      }
      ++p_;  // backslash
      if (p_ == end_) return fail("unterminated escape in a string");
      const char e = *p_++;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          RETURN_IF_ERROR(parse_hex4(&cp));
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("unpaired low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail("high surrogate not followed by a \\u low surrogate");
            p_ += 2;
            uint32_t low;
            RETURN_IF_ERROR(parse_hex4(&low));
            if (low < 0xDC00 || low > 0xDFFF) return fail("high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(cp, out);
          break;
        }
        default:
          --p_;
          return fail("invalid escape '\\", e, "' in a string");
      }
    }
  }

  Status parse_number(JsonValue* v) {
    const char* start = p_;
    bool integer = true;
    if (*p_ == '-') ++p_;
    if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return fail("expected a digit in a number");
    if (*p_ == '0') {
      ++p_;
      if (p_ != end_ && *p_ >= '0' && *p_ <= '9') return fail("leading zero in a number");
    } else {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return fail("expected a digit after the decimal point");
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return fail("expected a digit in the exponent");
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    v->type_ = JsonValue::Type::kNumber;
    // The grammar above is strict; from_chars (locale-independent) converts the checked text.
    auto r = std::from_chars(start, p_, v->number_);
    if (r.ec != std::errc() || r.ptr != p_ || !std::isfinite(v->number_)) {
      p_ = start;
      return fail("number out of range");
    }
    if (integer) {
      int64_t i = 0;
      auto ri = std::from_chars(start, p_, i);
      v->is_integer_ = ri.ec == std::errc() && ri.ptr == p_;
      v->int_ = v->is_integer_ ? i : 0;
    }
    return Status::OK();
  }

  const char* p_;
  const char* end_;
  const char* line_start_;
  int line_ = 1;
  std::string source_;
};

StatusOr<JsonValue> parse_json(const std::string& text, const std::string& source_name) {
  return JsonParser(text, source_name).parse_document();
}

}  // namespace neutron
