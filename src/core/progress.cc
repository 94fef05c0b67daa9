#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace neutron {
namespace {

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), s < 100 ? "%.1f s" : "%.0f s", s);
  return buf;
}

}  // namespace

ProgressReporter::ProgressReporter(std::FILE* out, Options options) : out_(out), opt_(std::move(options)) {
  terminal_ = opt_.style == Style::kTerminal || (opt_.style == Style::kAuto && out_ && isatty(fileno(out_)));
}

double ProgressReporter::now() const {
  if (opt_.clock) return opt_.clock();
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string ProgressReporter::format_terminal(const std::string& label, int64_t done, int64_t total, double seconds,
                                              int bar_width) {
  std::string count = std::to_string(done);
  std::string line = label + " ";
  if (total > 0) {
    const std::string t = std::to_string(total);
    line += std::string(t.size() > count.size() ? t.size() - count.size() : 0, ' ') + count + "/" + t + " [";
    const int64_t w = std::max(bar_width, 1);
    const int64_t filled = std::clamp<int64_t>(done * w / total, 0, w);
    std::string bar(size_t(w), ' ');
    for (int64_t i = 0; i < filled; ++i) bar[size_t(i)] = '=';
    if (filled > 0 && filled < w) bar[size_t(filled - 1)] = '>';
    line += bar + "] ";
  } else {
    line += count + " ";
  }
  line += seconds_text(seconds);
  if (total > 0 && done > 0 && done < total) line += ", eta " + seconds_text(seconds * double(total - done) / double(done));
  return line;
}

std::string ProgressReporter::format_plain(const std::string& label, int64_t done, int64_t total, double seconds) {
  std::string line = label + " " + std::to_string(done);
  if (total > 0) line += "/" + std::to_string(total) + " (" + std::to_string(done * 100 / total) + "%)";
  return line + " " + seconds_text(seconds);
}

void ProgressReporter::update(const std::string& label, int64_t done, int64_t total) {
  if (!out_) return;
  const double t = now();
  const bool first = !started_ || label != label_;
  if (first) {
    finish();
    label_ = label;
    start_ = t;
    started_ = true;
  }
  const bool last = total > 0 && done >= total;
  const double interval = terminal_ ? opt_.redraw_seconds : opt_.plain_seconds;
  if (!first && !last && t - last_output_ < interval) return;
  last_output_ = t;
  if (terminal_) {
    std::fprintf(out_, "\r%s\x1b[K", format_terminal(label, done, total, t - start_, opt_.bar_width).c_str());
    line_open_ = true;
    if (last) finish();
  } else {
    std::fprintf(out_, "%s\n", format_plain(label, done, total, t - start_).c_str());
  }
  if (last) started_ = false;  // a next report starts a new job, even with the same label
  std::fflush(out_);
}

void ProgressReporter::finish() {
  if (line_open_ && out_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
  line_open_ = false;
}

}  // namespace neutron
