// ProgressReporter (src/core/progress.h): the rendered lines and when they are written, with a
// fake clock and a memory stream standing in for stderr.
#include "core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace neutron {
namespace {

// Collects what a reporter writes.
class Capture {
 public:
  Capture() { file_ = open_memstream(&buf_, &size_); }
  ~Capture() {
    if (file_) std::fclose(file_);
    std::free(buf_);
  }
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, size_);
  }

 private:
  std::FILE* file_ = nullptr;
  char* buf_ = nullptr;
  size_t size_ = 0;
};

ProgressReporter::Options with_clock(ProgressReporter::Style style, double* now) {
  ProgressReporter::Options o;
  o.style = style;
  o.clock = [now] { return *now; };
  o.bar_width = 10;
  return o;
}

TEST(Progress, TerminalLineFormat) {
  EXPECT_EQ(ProgressReporter::format_terminal("calibrating", 37, 200, 1.2, 10),
            "calibrating  37/200 [>         ] 1.2 s, eta 5.3 s");
  EXPECT_EQ(ProgressReporter::format_terminal("calibrating", 0, 200, 0, 10), "calibrating   0/200 [          ] 0.0 s");
  EXPECT_EQ(ProgressReporter::format_terminal("calibrating", 100, 200, 2, 10),
            "calibrating 100/200 [====>     ] 2.0 s, eta 2.0 s");
  EXPECT_EQ(ProgressReporter::format_terminal("calibrating", 200, 200, 150, 10), "calibrating 200/200 [==========] 150 s");
  EXPECT_EQ(ProgressReporter::format_terminal("compiling", 7, 0, 0.5, 10), "compiling 7 0.5 s");
}

TEST(Progress, PlainLineFormat) {
  EXPECT_EQ(ProgressReporter::format_plain("calibrating", 37, 200, 1.2), "calibrating 37/200 (18%) 1.2 s");
  EXPECT_EQ(ProgressReporter::format_plain("compiling", 7, 0, 0.5), "compiling 7 0.5 s");
}

TEST(Progress, TerminalRedrawsInPlaceAtMostEveryInterval) {
  Capture c;
  double now = 10.0;
  {
    ProgressReporter r(c.file(), with_clock(ProgressReporter::Style::kTerminal, &now));
    EXPECT_TRUE(r.terminal());
    ProgressCallback cb = r.callback();
    cb("calibrating", 0, 4);  // first: drawn
    now += 0.01;
    cb("calibrating", 1, 4);  // too soon: skipped
    now += 0.2;
    cb("calibrating", 2, 4);  // drawn
    now += 0.01;
    cb("calibrating", 4, 4);  // last: drawn and the line ended
  }
  const std::string out = c.text();
  EXPECT_EQ(out,
            "\rcalibrating 0/4 [          ] 0.0 s\x1b[K"
            "\rcalibrating 2/4 [====>     ] 0.2 s, eta 0.2 s\x1b[K"
            "\rcalibrating 4/4 [==========] 0.2 s\x1b[K\n");
}

TEST(Progress, TerminalLineIsEndedWhenAnotherJobStartsOrOnDestruction) {
  Capture c;
  double now = 0;
  {
    ProgressReporter r(c.file(), with_clock(ProgressReporter::Style::kTerminal, &now));
    r.update("loading", 1, 3);
    r.update("calibrating", 1, 3);
  }
  const std::string out = c.text();
  EXPECT_NE(out.find("loading 1/3"), std::string::npos);
  EXPECT_NE(out.find("\x1b[K\n\rcalibrating 1/3"), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
}

TEST(Progress, PlainWritesFirstPeriodicAndLastLines) {
  Capture c;
  double now = 0;
  {
    ProgressReporter::Options o = with_clock(ProgressReporter::Style::kPlain, &now);
    o.plain_seconds = 5;
    ProgressReporter r(c.file(), o);
    EXPECT_FALSE(r.terminal());
    for (int i = 0; i <= 20; ++i, now += 1) r.update("calibrating", i, 20);
  }
  EXPECT_EQ(c.text(),
            "calibrating 0/20 (0%) 0.0 s\n"
            "calibrating 5/20 (25%) 5.0 s\n"
            "calibrating 10/20 (50%) 10.0 s\n"
            "calibrating 15/20 (75%) 15.0 s\n"
            "calibrating 20/20 (100%) 20.0 s\n");
}

TEST(Progress, AutoStyleIsPlainForAFileAndEmptyCallbacksAreFine) {
  Capture c;
  ProgressReporter r(c.file());
  EXPECT_FALSE(r.terminal());
  report_progress(nullptr, "x", 1, 2);  // library code with no reporter attached
  report_progress(r.callback(), "x", 2, 2);
  EXPECT_NE(c.text().find("x 2/2 (100%)"), std::string::npos);
}

}  // namespace
}  // namespace neutron
