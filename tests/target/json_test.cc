// The JSON reader: every value type, escapes, numbers, and errors with line:column.
#include "core/json.h"

#include <gtest/gtest.h>

#include <random>

namespace neutron {
namespace {

JsonValue parse_ok(const std::string& text) {
  auto v = parse_json(text, "t.json");
  EXPECT_TRUE(v.ok()) << text << " -> " << v.status().to_string();
  return v.ok() ? v.value() : JsonValue();
}

std::string parse_error(const std::string& text) {
  auto v = parse_json(text, "t.json");
  EXPECT_FALSE(v.ok()) << "accepted: " << text;
  return v.ok() ? "" : v.status().message();
}

TEST(Json, Scalars) {
  EXPECT_TRUE(parse_ok("null").is_null());
  EXPECT_TRUE(parse_ok("true").as_bool());
  EXPECT_TRUE(parse_ok(" false ").is_bool());
  EXPECT_FALSE(parse_ok("false").as_bool());
  EXPECT_EQ(parse_ok("\"hi\"").as_string(), "hi");
}

TEST(Json, Numbers) {
  JsonValue v = parse_ok("4096");
  EXPECT_TRUE(v.is_integer());
  EXPECT_EQ(v.as_int(), 4096);
  EXPECT_EQ(parse_ok("-3").as_int(), -3);
  EXPECT_TRUE(parse_ok("0").is_integer());
  EXPECT_TRUE(parse_ok("-0").is_integer());
  v = parse_ok("4096.0");
  EXPECT_TRUE(v.is_number());
  EXPECT_FALSE(v.is_integer());
  EXPECT_DOUBLE_EQ(v.as_number(), 4096.0);
  EXPECT_DOUBLE_EQ(parse_ok("1e3").as_number(), 1000.0);
  EXPECT_FALSE(parse_ok("1e3").is_integer());
  EXPECT_DOUBLE_EQ(parse_ok("-2.5E-2").as_number(), -0.025);
  EXPECT_EQ(parse_ok("9223372036854775807").as_int(), INT64_MAX);
  v = parse_ok("9223372036854775808");  // does not fit int64: a number, not an integer
  EXPECT_TRUE(v.is_number());
  EXPECT_FALSE(v.is_integer());
}

TEST(Json, StringEscapes) {
  EXPECT_EQ(parse_ok(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parse_ok(R"("\u0041\u00e9\u20ac")").as_string(), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(parse_ok(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");  // surrogate pair -> U+1F600
  EXPECT_EQ(parse_ok("\"caf\xC3\xA9\"").as_string(), "caf\xC3\xA9");        // raw UTF-8 passes through
}

TEST(Json, ObjectsAndArraysKeepOrderAndPositions) {
  JsonValue v = parse_ok("{\n  \"b\": [1, 2, {\"x\": null}],\n  \"a\": {}\n}");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.as_object().size(), 2u);
  EXPECT_EQ(v.as_object()[0].first, "b");
  EXPECT_EQ(v.as_object()[1].first, "a");
  const JsonValue* b = v.find("b");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->as_array().size(), 3u);
  EXPECT_EQ(b->as_array()[1].as_int(), 2);
  EXPECT_TRUE(b->as_array()[2].find("x")->is_null());
  EXPECT_EQ(b->line(), 2);
  EXPECT_EQ(b->column(), 8);
  EXPECT_EQ(v.find("a")->line(), 3);
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_TRUE(parse_ok("[]").as_array().empty());
}

TEST(Json, ByteOrderMarkIsSkipped) { EXPECT_EQ(parse_ok("\xEF\xBB\xBF[1]").as_array().size(), 1u); }

TEST(Json, ErrorsNameLineAndColumn) {
  EXPECT_EQ(parse_error("{\n  \"a\": 1\n  \"b\": 2\n}"), "t.json:3:3: expected ',' or '}' after an object member, found '\"'");
  EXPECT_EQ(parse_error("[1, 2,]"), "t.json:1:7: expected a value, found ']'");
  EXPECT_EQ(parse_error("{\"a\": 1,}"), "t.json:1:9: expected a member name in double quotes, found '}'");
  EXPECT_EQ(parse_error("[1 2]"), "t.json:1:4: expected ',' or ']' after an array element, found '2'");
  EXPECT_EQ(parse_error("{\"a\" 1}"), "t.json:1:6: expected ':' after member name \"a\", found '1'");
  EXPECT_EQ(parse_error(""), "t.json:1:1: expected a value, found end of input");
  EXPECT_EQ(parse_error("[1] x"), "t.json:1:5: unexpected 'x' after the top-level value");
  EXPECT_EQ(parse_error("{\"a\": 1, \"a\": 2}"), "t.json:1:10: duplicate member \"a\"");
}

TEST(Json, RejectsWhatJsonDoesNot) {
  EXPECT_NE(parse_error("01").find("leading zero"), std::string::npos);
  EXPECT_NE(parse_error("+1").find("expected a value"), std::string::npos);
  EXPECT_NE(parse_error("1.").find("after the decimal point"), std::string::npos);
  EXPECT_NE(parse_error(".5").find("expected a value"), std::string::npos);
  EXPECT_NE(parse_error("1e").find("exponent"), std::string::npos);
  EXPECT_NE(parse_error("NaN").find("expected a value"), std::string::npos);
  EXPECT_NE(parse_error("1e999").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("tru").find("invalid literal"), std::string::npos);
  EXPECT_NE(parse_error("\"abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(parse_error("\"a\nb\"").find("control character"), std::string::npos);
  EXPECT_NE(parse_error(R"("\x")").find("invalid escape"), std::string::npos);
  EXPECT_NE(parse_error(R"("\u12G4")").find("hex digit"), std::string::npos);
  EXPECT_NE(parse_error(R"("\u12")").find("incomplete"), std::string::npos);
  EXPECT_NE(parse_error(R"("\udc00")").find("unpaired low surrogate"), std::string::npos);
  EXPECT_NE(parse_error(R"("\ud800x")").find("high surrogate"), std::string::npos);
  EXPECT_NE(parse_error(R"("\ud800\u0041")").find("low surrogate"), std::string::npos);
  EXPECT_NE(parse_error("// c\n1").find("expected a value"), std::string::npos);
  EXPECT_NE(parse_error(std::string(300, '[') + std::string(300, ']')).find("nesting deeper than 256"),
            std::string::npos);
}

TEST(Json, DeepButAllowedNesting) {
  JsonValue v = parse_ok(std::string(200, '[') + std::string(200, ']'));
  EXPECT_TRUE(v.is_array());
}

TEST(Json, TruncatedInputsNeverReadPastTheEnd) {
  // Every proper prefix of an object document is an error (and none may read past its end).
  const std::string doc = R"({"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00"], "b": {"c": false}})";
  for (size_t n = 0; n < doc.size(); ++n) {
    auto v = parse_json(doc.substr(0, n), "p.json");
    EXPECT_FALSE(v.ok()) << n;
  }
  EXPECT_TRUE(parse_json(doc, "p.json").ok());
}

TEST(Json, RandomMutationsNeverCrash) {
  // Byte flips, insertions and deletions in a valid document: each parse either succeeds or
  // reports an error with a position (run under the sanitizers to check the bounds).
  const std::string doc =
      R"({"name": {"value": "x\u00e9", "source": "s"}, "n": [1, -2.5e3, true, false, null, {"k": "\ud83d\ude00"}]})";
  const std::string alphabet = "{}[]\",:0123456789-+.eEtrufalsn\\/ \n\x01\xff";
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string s = doc;
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: s[at] = c; break;
        case 1: s.insert(s.begin() + long(at), c); break;
        default: s.erase(at, 1 + rng() % 3); break;
      }
    }
    auto v = parse_json(s, "m.json");
    if (!v.ok()) {
      EXPECT_EQ(v.status().message().rfind("m.json:", 0), 0u) << s;
    }
  }
}

}  // namespace
}  // namespace neutron
