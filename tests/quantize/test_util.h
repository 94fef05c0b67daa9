// Helpers for the quantize tests: the golden directory, a scratch directory, and a minimal JSON
// reader for tests/quantize/golden/observers.json (written by scripts/observer_golden.py).
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace neutron::testing {

// tests/quantize/golden, or $NEUTRON_OBSERVER_GOLDEN_DIR (e.g. a --fuzz run of the generator).
inline std::string golden_dir() {
  if (const char* env = std::getenv("NEUTRON_OBSERVER_GOLDEN_DIR")) return env;
  return std::string(NEUTRON_TESTS_DIR) + "/quantize/golden";  // not __FILE__ (a compiler cache may relativize it)
}

// A fresh directory under /tmp per call.
inline std::string make_temp_dir() {
  char tmpl[] = "/tmp/neutron_quantize_testXXXXXX";
  const char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d ? d : "/tmp";
}

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  double number = 0;
  bool boolean = false;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json& operator[](const std::string& key) const {
    static const Json kMissing;
    auto it = object.find(key);
    return it == object.end() ? kMissing : it->second;
  }
  const Json& operator[](size_t i) const { return array.at(i); }
  size_t size() const { return kind == kArray ? array.size() : object.size(); }
  float f() const { return float(number); }
  int i() const { return int(number); }
};

class JsonParser {
 public:
  explicit JsonParser(std::string text) : s_(std::move(text)) {}
  bool parse(Json* out) {
    if (!value(out)) return false;
    ws();
    return p_ == s_.size();
  }

 private:
  void ws() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  bool lit(const char* w) {
    size_t n = std::char_traits<char>::length(w);
    if (s_.compare(p_, n, w) != 0) return false;
    p_ += n;
    return true;
  }
  bool str(std::string* out) {
    if (s_[p_] != '"') return false;
    for (++p_; p_ < s_.size() && s_[p_] != '"'; ++p_) {
      if (s_[p_] == '\\' && ++p_ < s_.size()) {
        char c = s_[p_];
        out->push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c);
      } else {
        out->push_back(s_[p_]);
      }
    }
    return p_++ < s_.size();
  }
  bool value(Json* v) {
    ws();
    if (p_ >= s_.size()) return false;
    char c = s_[p_];
    if (c == '{') {
      v->kind = Json::kObject;
      ++p_;
      ws();
      if (s_[p_] == '}') return ++p_, true;
      for (;;) {
        ws();
        std::string key;
        if (!str(&key)) return false;
        ws();
        if (s_[p_++] != ':') return false;
        if (!value(&v->object[key])) return false;
        ws();
        if (s_[p_] == ',') {
          ++p_;
          continue;
        }
        return s_[p_++] == '}';
      }
    }
    if (c == '[') {
      v->kind = Json::kArray;
      ++p_;
      ws();
      if (s_[p_] == ']') return ++p_, true;
      for (;;) {
        v->array.emplace_back();
        if (!value(&v->array.back())) return false;
        ws();
        if (s_[p_] == ',') {
          ++p_;
          continue;
        }
        return s_[p_++] == ']';
      }
    }
    if (c == '"') return v->kind = Json::kString, str(&v->string);
    if (lit("true")) return v->kind = Json::kBool, v->boolean = true, true;
    if (lit("false")) return v->kind = Json::kBool, true;
    if (lit("null")) return true;
    if (lit("NaN")) return v->kind = Json::kNumber, v->number = std::nan(""), true;
    char* end = nullptr;
    v->number = std::strtod(s_.c_str() + p_, &end);
    if (end == s_.c_str() + p_) return false;
    v->kind = Json::kNumber;
    p_ = size_t(end - s_.c_str());
    return true;
  }
  std::string s_;
  size_t p_ = 0;
};

inline Json load_json_or_die(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << f.rdbuf();
  Json j;
  EXPECT_TRUE(JsonParser(ss.str()).parse(&j)) << "bad JSON in " << path;
  return j;
}

}  // namespace neutron::testing
