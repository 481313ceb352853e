// Random identifiers from the kernel's CSPRNG (getrandom(2)).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sonde {

// A fresh RFC 4122 version-4 UUID in lower-case canonical form. Thread-safe.
// Aborts only if the kernel CSPRNG is unavailable, which Linux >= 3.17 guarantees it is not.
std::string NewUuidV4();

// The same UUIDs from a pool of CSPRNG bytes refilled 32 UUIDs at a time: one getrandom(2) per 32
// runs instead of one per run, a system call the event loop made for every probe it started.
// Not thread-safe: one per owner (the engine has one for its loop). Aborts as NewUuidV4 does.
class UuidSource {
 public:
  std::string Next();

 private:
  std::array<uint8_t, size_t{16} * 32> pool_{};
  size_t used_ = pool_.size();  // bytes of pool_ handed out; all of them until the first fill
};

// `bytes` in canonical form (8-4-4-4-12 lower-case hex digits), as they are: no version bits set.
std::string FormatUuid(const std::array<uint8_t, 16>& bytes);

// True when `s` is a canonical lower- or upper-case UUID (8-4-4-4-12 hex digits).
bool LooksLikeUuid(std::string_view s);

}  // namespace sonde
