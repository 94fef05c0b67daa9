// Progress of long host-side jobs (calibration, compilation). Library code never prints: it takes
// an optional ProgressCallback and reports (label, done, total) through it. Tools render those
// reports with ProgressReporter:
//   on a terminal   one line redrawn in place:  "calibrating  37/200 [=====>      ] 1.2 s, eta 5.3 s"
//   otherwise       plain lines, the first, then one per `plain_seconds`, then the last:
//                   "calibrating 37/200 (18%) 1.2 s"
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace neutron {

// `total` 0 means unknown. Calls for one job come with the same label and non-decreasing `done`.
using ProgressCallback = std::function<void(const std::string& label, int64_t done, int64_t total)>;

inline void report_progress(const ProgressCallback& cb, const std::string& label, int64_t done, int64_t total) {
  if (cb) cb(label, done, total);
}

class ProgressReporter {
 public:
  enum class Style { kAuto, kTerminal, kPlain };  // kAuto: kTerminal when the stream is a TTY
  struct Options {
    Style style = Style::kAuto;
    double redraw_seconds = 0.1;  // terminal: at most one redraw per interval (first and last always)
    double plain_seconds = 5.0;   // plain: at most one line per interval (first and last always)
    int bar_width = 24;
    std::function<double()> clock;  // monotonic seconds; default std::chrono::steady_clock
  };

  explicit ProgressReporter(std::FILE* out = stderr) : ProgressReporter(out, Options()) {}
  ProgressReporter(std::FILE* out, Options options);
  ~ProgressReporter() { finish(); }
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  void update(const std::string& label, int64_t done, int64_t total);
  // Ends a terminal line left open by an unfinished job. Idempotent.
  void finish();
  // Forwards to update(); the reporter must outlive the callback.
  ProgressCallback callback() {
    return [this](const std::string& label, int64_t done, int64_t total) { update(label, done, total); };
  }
  bool terminal() const { return terminal_; }

  // The rendered texts, without "\r" or "\n" (exposed for tests).
  static std::string format_terminal(const std::string& label, int64_t done, int64_t total, double seconds,
                                     int bar_width);
  static std::string format_plain(const std::string& label, int64_t done, int64_t total, double seconds);

 private:
  double now() const;
  std::FILE* out_;
  Options opt_;
  bool terminal_ = false;
  bool line_open_ = false;  // terminal: a drawn line without its final newline
  std::string label_;
  double start_ = 0, last_output_ = 0;
  bool started_ = false;
};

}  // namespace neutron
