#include "core/time.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <limits>

namespace sonde {
namespace {

constexpr uint64_t kMaxDuration = uint64_t{1} << 63;  // |min int64|, Go's overflow bound

struct Unit {
  std::string_view name;
  uint64_t nanos;
};
constexpr std::array<Unit, 8> kUnits{{{"ns", 1},
                                      {"us", 1'000},
                                      {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
                                      {"\xCE\xBCs", 1'000},  // U+03BC Greek mu
                                      {"ms", 1'000'000},
                                      {"s", 1'000'000'000},
                                      {"m", 60'000'000'000},
                                      {"h", 3'600'000'000'000}}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

Result<Duration> Invalid(std::string_view orig, std::string_view why) {
  std::string msg = "invalid duration " + Quote(orig);
  if (!why.empty()) msg += ": " + std::string(why);
  return Result<Duration>::Error(std::move(msg));
}

// Consumes leading digits into v; false on overflow (Go's leadingInt).
bool LeadingInt(std::string_view& s, uint64_t& v) {
  size_t i = 0;
  v = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (v > (kMaxDuration - 1) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (v > kMaxDuration) return false;
  }
  s.remove_prefix(i);
  return true;
}

// Consumes leading digits as a fraction f/scale, dropping digits that would overflow.
void LeadingFraction(std::string_view& s, uint64_t& f, double& scale) {
  size_t i = 0;
  f = 0;
  scale = 1;
  bool overflow = false;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (overflow) continue;
    if (f > (std::numeric_limits<int64_t>::max() - 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = f * 10 + static_cast<uint64_t>(s[i] - '0');
    if (y > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      overflow = true;
      continue;
    }
    f = y;
    scale *= 10;
  }
  s.remove_prefix(i);
}

// Writes the fraction v/10^prec without trailing zeros (and without '.' if zero), right to
// left into buf ending at w. Returns the new w; v becomes the integer part (Go's fmtFrac).
size_t FmtFrac(char* buf, size_t w, uint64_t& v, int prec) {
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print) buf[--w] = static_cast<char>('0' + digit);
    v /= 10;
  }
  if (print) buf[--w] = '.';
  return w;
}

size_t FmtInt(char* buf, size_t w, uint64_t v) {
  if (v == 0) {
    buf[--w] = '0';
    return w;
  }
  while (v > 0) {
    buf[--w] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return w;
}

}  // namespace

Result<Duration> ParseGoDuration(std::string_view text) {
  const std::string_view orig = text;
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  if (s.empty()) return Invalid(orig, "it is empty (write e.g. 30s, 5m, 1h30m)");
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigit(s[0]))) return Invalid(orig, "expected a number");
    const size_t before_int = s.size();
    uint64_t v = 0;
    if (!LeadingInt(s, v)) return Invalid(orig, "value out of range");
    const bool pre = before_int != s.size();
    bool post = false;
    uint64_t f = 0;
    double scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      const size_t before_frac = s.size();
      LeadingFraction(s, f, scale);
      post = before_frac != s.size();
    }
    if (!pre && !post) return Invalid(orig, "expected a number");
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !IsDigit(s[i])) ++i;
    if (i == 0) return Invalid(orig, "missing unit (use ns, us, ms, s, m or h)");
    const std::string_view unit_name = s.substr(0, i);
    s.remove_prefix(i);
    uint64_t unit = 0;
    for (const Unit& u : kUnits) {
      if (u.name == unit_name) unit = u.nanos;
    }
    if (unit == 0) {
      return Invalid(orig, "unknown unit " + Quote(unit_name) + " (use ns, us, ms, s, m or h)");
    }
    if (v > kMaxDuration / unit) return Invalid(orig, "value out of range");
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMaxDuration) return Invalid(orig, "value out of range");
    }
    total += v;
    if (total > kMaxDuration) return Invalid(orig, "value out of range");
  }
  if (neg) return Duration{static_cast<int64_t>(0 - total)};
  if (total > kMaxDuration - 1) return Invalid(orig, "value out of range");
  return Duration{static_cast<int64_t>(total)};
}

std::string FormatGoDuration(Duration d) {
  char buf[32];
  size_t w = sizeof(buf);
  const int64_t n = d.count();
  const bool neg = n < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  if (u < 1'000'000'000) {
    int prec = 0;
    buf[--w] = 's';
    if (u == 0) {
      buf[--w] = '0';
      return std::string(buf + w, sizeof(buf) - w);
    }
    if (u < 1'000) {
      buf[--w] = 'n';
    } else if (u < 1'000'000) {
      prec = 3;
      buf[--w] = '\xB5';
      buf[--w] = '\xC2';
    } else {
      prec = 6;
      buf[--w] = 'm';
    }
    w = FmtFrac(buf, w, u, prec);
    w = FmtInt(buf, w, u);
  } else {
    buf[--w] = 's';
    w = FmtFrac(buf, w, u, 9);
    w = FmtInt(buf, w, u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      w = FmtInt(buf, w, u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        w = FmtInt(buf, w, u);
      }
    }
  }
  if (neg) buf[--w] = '-';
  return std::string(buf + w, sizeof(buf) - w);
}

namespace {

// Writes `v` as exactly `width` digits (v fits), at p; returns the end.
char* PutDigits(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

}  // namespace

// By hand rather than with snprintf: status pages write two of these per check.
std::string FormatRfc3339Nano(TimePoint t) {
  const auto since = t.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since);
  const int64_t nanos = (since - secs).count();
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  const int64_t year = tm.tm_year + 1900;
  if (year < 0 || year > 9999) {  // as %04d writes such years, which is what Go does too
    char head[80];
    std::snprintf(head, sizeof(head), "%04lld-%02d-%02dT%02d:%02d:%02d",
                  static_cast<long long>(year), tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    std::string out(head);
    if (nanos != 0) {
      char frac[16];
      std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(nanos));
      std::string f(frac);
      while (f.back() == '0') f.pop_back();
      out += f;
    }
    return out + 'Z';
  }
  char buf[40];
  char* p = PutDigits(buf, year, 4);
  *p++ = '-';
  p = PutDigits(p, tm.tm_mon + 1, 2);
  *p++ = '-';
  p = PutDigits(p, tm.tm_mday, 2);
  *p++ = 'T';
  p = PutDigits(p, tm.tm_hour, 2);
  *p++ = ':';
  p = PutDigits(p, tm.tm_min, 2);
  *p++ = ':';
  p = PutDigits(p, tm.tm_sec, 2);
  if (nanos != 0) {
    *p++ = '.';
    char* end = PutDigits(p, nanos, 9);
    while (end[-1] == '0') --end;
    p = end;
  }
  *p++ = 'Z';
  return std::string(buf, p);
}

namespace {

// Reads exactly `n` digits at s[pos]; false if they are not all digits.
bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

Result<TimePoint> ParseRfc3339(std::string_view s) {
  const auto bad = [&] {
    return Result<TimePoint>::Error("invalid time \"" + std::string(s) +
                                    "\": expected RFC 3339, e.g. 2026-01-02T15:04:05Z");
  };
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (!Digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mon) ||
      s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, min) || s[16] != ':' ||
      !Digits(s, 17, 2, sec)) {
    return bad();
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return bad();
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t digits = 0;
    for (++pos; pos < s.size() && IsDigit(s[pos]); ++pos, ++digits) {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
    }
    if (digits == 0) return bad();
    for (; digits < 9; ++digits) nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om)) {
      return bad();
    }
    offset = (s[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  const int64_t secs =
      DaysFromCivil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
  return TimePoint{std::chrono::seconds{secs} + std::chrono::nanoseconds{nanos}};
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixSeconds(int64_t s) { return TimePoint{std::chrono::seconds{s}}; }

}  // namespace sonde
