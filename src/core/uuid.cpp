#include "core/uuid.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace sonde {

namespace {

// Fills `out` from the kernel CSPRNG; aborts without one (unsafe to issue run tokens).
void FillRandom(uint8_t* out, size_t size) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = getrandom(out + got, size - got, 0);
    if (n < 0) std::abort();
    got += static_cast<size_t>(n);
  }
}

std::string Version4(std::array<uint8_t, 16> b) {
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return FormatUuid(b);
}

}  // namespace

std::string NewUuidV4() {
  std::array<uint8_t, 16> b{};
  FillRandom(b.data(), b.size());
  return Version4(b);
}

std::string UuidSource::Next() {
  if (used_ == pool_.size()) {
    FillRandom(pool_.data(), pool_.size());
    used_ = 0;
  }
  std::array<uint8_t, 16> b{};
  std::copy_n(pool_.begin() + static_cast<std::ptrdiff_t>(used_), b.size(), b.begin());
  // Not kept once handed out: a later reader of this object's memory learns no issued uuid.
  std::fill_n(pool_.begin() + static_cast<std::ptrdiff_t>(used_), b.size(), uint8_t{0});
  used_ += b.size();
  return Version4(b);
}

// By hand rather than snprintf: every run gets a UUID, and printf cost more than the rest of
// starting a probe's run.
std::string FormatUuid(const std::array<uint8_t, 16>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t at = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++at;  // the dash stays
    out[at++] = kHex[bytes[i] >> 4];
    out[at++] = kHex[bytes[i] & 0x0F];
  }
  return out;
}

bool LooksLikeUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace sonde
