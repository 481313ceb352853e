// Status and Result<T>: expected failures as values (leveldb's Status idea).
// Thread safety: plain values; safe to copy between threads.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sonde {

// The outcome of an operation that returns nothing: OK, or an error message a user can act on.
class Status {
 public:
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  // REQUIRES: !ok(). The message says what went wrong and where.
  const std::string& message() const { return message_; }

 private:
  Status() = default;
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

// Either a value or an error message.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  static Result Error(std::string message) { return Result(ErrorTag{std::move(message)}); }

  bool ok() const { return v_.index() == 0; }
  // REQUIRES: ok().
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  // REQUIRES: !ok().
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  struct ErrorTag {
    std::string message;
  };
  explicit Result(ErrorTag e) : v_(std::move(e)) {}
  std::variant<T, ErrorTag> v_;
};

}  // namespace sonde
