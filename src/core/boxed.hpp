// Value types that keep rarely present data out of line, so that an object holding them pays
// one pointer while they are absent: the parts of a CheckSpec most checks do not have (pod spec,
// labels, heartbeat, Kubernetes origin) and strings shared by every check of one file. With
// 100 000 checks each inline byte of CheckSpec is 100 KB of resident memory.
//
// All three behave as plain values: copies are independent (Boxed and BoxedOptional copy the
// pointee; SharedString shares an immutable string), and == compares contents.
// Thread safety: as the types they hold; a const object is safe to read from several threads.
// Failure: allocation failure throws std::bad_alloc, as the standard containers do.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

namespace sonde {

// A T that reads as T{} while unset. Const access never allocates; non-const access (->, *)
// allocates the T, so writers need no special call. Assigning a value equal to T{} frees it.
// REQUIRES: T is default-constructible, copyable and equality-comparable.
template <class T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(T value) { *this = std::move(value); }  // NOLINT(google-explicit-constructor)
  Boxed(const Boxed& other) : p_(other.p_ ? std::make_unique<T>(*other.p_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) p_ = other.p_ ? std::make_unique<T>(*other.p_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(T value) {
    if (value == Empty()) {
      p_.reset();
    } else if (p_) {
      *p_ = std::move(value);
    } else {
      p_ = std::make_unique<T>(std::move(value));
    }
    return *this;
  }

  const T& operator*() const { return p_ ? *p_ : Empty(); }
  const T* operator->() const { return &**this; }
  T& operator*() {
    if (!p_) p_ = std::make_unique<T>();
    return *p_;
  }
  T* operator->() { return &**this; }

  bool operator==(const Boxed& other) const { return **this == *other; }
  bool operator==(const T& other) const { return **this == other; }

 private:
  static const T& Empty() {
    static const T kEmpty{};  // immutable, so sharing it across threads is safe
    return kEmpty;
  }
  std::unique_ptr<T> p_;
};

// std::optional<T> with the T on the heap: 8 bytes while empty. Same interface as the parts of
// std::optional that CheckSpec's users need.
template <class T>
class BoxedOptional {
 public:
  BoxedOptional() = default;
  BoxedOptional(std::nullopt_t) {}  // NOLINT(google-explicit-constructor)
  BoxedOptional(T value)            // NOLINT(google-explicit-constructor)
      : p_(std::make_unique<T>(std::move(value))) {}
  BoxedOptional(const BoxedOptional& other)
      : p_(other.p_ ? std::make_unique<T>(*other.p_) : nullptr) {}
  BoxedOptional(BoxedOptional&&) noexcept = default;
  BoxedOptional& operator=(const BoxedOptional& other) {
    if (this != &other) p_ = other.p_ ? std::make_unique<T>(*other.p_) : nullptr;
    return *this;
  }
  BoxedOptional& operator=(BoxedOptional&&) noexcept = default;
  BoxedOptional& operator=(std::nullopt_t) {
    p_.reset();
    return *this;
  }

  template <class... Args>
  T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() { p_.reset(); }
  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  // REQUIRES: has_value() for the four accessors below.
  const T& operator*() const { return *p_; }
  T& operator*() { return *p_; }
  const T* operator->() const { return p_.get(); }
  T* operator->() { return p_.get(); }
  const T& value() const { return *p_; }

  bool operator==(const BoxedOptional& other) const {
    return has_value() == other.has_value() && (!p_ || *p_ == *other.p_);
  }

 private:
  std::unique_ptr<T> p_;
};

// An immutable string whose copies share one allocation: a file name repeated in every check
// of that file is stored once. Reads as a const std::string&.
class SharedString {
 public:
  SharedString() = default;
  SharedString(std::string s)  // NOLINT(google-explicit-constructor)
      : p_(s.empty() ? nullptr : std::make_shared<const std::string>(std::move(s))) {}
  SharedString(const char* s) : SharedString(std::string(s)) {}  // NOLINT

  const std::string& str() const { return p_ ? *p_ : Empty(); }
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  bool empty() const { return str().empty(); }
  void clear() { p_.reset(); }

  bool operator==(const SharedString& other) const { return str() == other.str(); }
  bool operator==(const std::string& other) const { return str() == other; }
  bool operator==(const char* other) const { return str() == other; }
  friend std::ostream& operator<<(std::ostream& os, const SharedString& s) { return os << s.str(); }

 private:
  static const std::string& Empty() {
    static const std::string kEmpty;
    return kEmpty;
  }
  std::shared_ptr<const std::string> p_;
};

}  // namespace sonde
