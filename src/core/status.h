// Host-side status with a human-readable message (importer, IR, passes, compiler, tools).
// The embedded runtime uses the bare `Error` enum instead; see error.h.
#pragma once
#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "core/error.h"
#include "core/strcat.h"

namespace neutron {

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status OK() { return Status(); }

  bool ok() const { return code_ == Error::Ok; }
  Error code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid model: node 'conv1' (Conv): ..." style text for the CLI.
  std::string to_string() const {
    return ok() ? "ok" : std::string(neutron::to_string(code_)) + ": " + message_;
  }
  // Prefix context (file name, node name) while an error travels up.
  Status with_context(const std::string& context) const {
    return ok() ? *this : Status(code_, context + ": " + message_);
  }

 private:
  Error code_ = Error::Ok;
  std::string message_;
};

template <typename... Args>
Status error(Error code, const Args&... args) {
  return Status(code, str_cat(args...));
}

// Either a value or a non-OK Status. Move-friendly, no default constructor.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}
  StatusOr(Status status) : v_(std::move(status)) {
    // A StatusOr built from an OK status has no value: turn it into an internal error
    // so ok() and value() can never disagree.
    if (std::get<Status>(v_).ok()) v_ = Status(Error::Internal, "StatusOr built from OK status");
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace neutron

#define NEUTRON_CONCAT_INNER(a, b) a##b
#define NEUTRON_CONCAT(a, b) NEUTRON_CONCAT_INNER(a, b)

// Returns the status from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::neutron::Status _neutron_st = (expr);        \
    if (!_neutron_st.ok()) return _neutron_st;     \
  } while (0)

// Returns an error built from the remaining arguments if `cond` is false.
#define CHECK_OR_RETURN(cond, code, ...)                         \
  do {                                                           \
    if (!(cond)) return ::neutron::error(code, __VA_ARGS__);     \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, expr);` unwraps a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(NEUTRON_CONCAT(_neutron_sor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
