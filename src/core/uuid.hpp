// Random identifiers from the kernel's CSPRNG (getrandom(2)).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sonde {

// A fresh RFC 4122 version-4 UUID in lower-case canonical form. Thread-safe.
// Aborts only if the kernel CSPRNG is unavailable, which Linux >= 3.17 guarantees it is not.
std::string NewUuidV4();

// `bytes` in canonical form (8-4-4-4-12 lower-case hex digits), as they are: no version bits set.
std::string FormatUuid(const std::array<uint8_t, 16>& bytes);

// True when `s` is a canonical lower- or upper-case UUID (8-4-4-4-12 hex digits).
bool LooksLikeUuid(std::string_view s);

}  // namespace sonde
