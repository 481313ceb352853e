// Parsing and evaluation of conditions. The values a placeholder can take are computed per
// check (one JSON parse of the body per condition at most) and compared with the parsed
// right-hand side; nothing here does I/O.
#include "probe/condition.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <regex>
#include <variant>

#include "probe/json_path.hpp"

namespace sonde {

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kMatch, kNoMatch };
enum class Func { kNone, kLen, kHas };

// One item a value is compared with.
struct Item {
  enum Kind { kLiteral, kClass, kRange, kPattern } kind = kLiteral;
  std::string text;              // as written (unquoted)
  std::optional<double> number;  // literal as a number (milliseconds for times)
  double lo = 0, hi = 0;         // kClass, kRange bounds
};

struct Condition::Parsed {
  std::string text;
  Placeholder placeholder = Placeholder::kStatus;
  std::string json_path;  // after [BODY], e.g. ".data[0].id"; empty for the whole body
  Func func = Func::kNone;
  Op op = Op::kEq;
  std::vector<Item> items;  // one, or several for any(...)
  std::optional<std::regex> regex;
};

namespace {

constexpr std::pair<std::string_view, Placeholder> kPlaceholders[] = {
    {"[STATUS]", Placeholder::kStatus},
    {"[BODY]", Placeholder::kBody},
    {"[RESPONSE_TIME]", Placeholder::kResponseTime},
    {"[CONNECTED]", Placeholder::kConnected},
    {"[IP]", Placeholder::kIp},
    {"[CERTIFICATE_EXPIRATION]", Placeholder::kCertificateExpiration},
    {"[DNS_RCODE]", Placeholder::kDnsRcode},
    {"[DNS_ANSWERS]", Placeholder::kDnsAnswers},
};

constexpr std::pair<std::string_view, Op> kOps[] = {
    {"==", Op::kEq},    {"!=", Op::kNe},      {"<=", Op::kLe}, {">=", Op::kGe},
    {"=~", Op::kMatch}, {"!~", Op::kNoMatch}, {"<", Op::kLt},  {">", Op::kGt},
};

bool IsTime(Placeholder p) {
  return p == Placeholder::kResponseTime || p == Placeholder::kCertificateExpiration;
}
bool IsNumeric(Placeholder p, Func f) {
  return f == Func::kLen || p == Placeholder::kStatus || IsTime(p);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return std::string(s.substr(1, s.size() - 2));
  }
  return std::string(s);
}

std::optional<double> ParseNumber(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// A time in milliseconds: a bare number, a Go duration, or whole days ("30d").
std::optional<double> ParseMillis(std::string_view s) {
  if (auto n = ParseNumber(s)) return n;
  if (s.size() > 1 && s.back() == 'd') {
    if (auto days = ParseNumber(s.substr(0, s.size() - 1))) return *days * 86'400'000.0;
  }
  auto d = ParseGoDuration(s);
  if (!d.ok()) return std::nullopt;
  return std::chrono::duration<double, std::milli>(d.value()).count();
}

Result<Item> ParseItem(std::string_view raw, Placeholder p, Func f) {
  Item item;
  const std::string_view s = Trim(raw);
  item.text = Unquote(s);
  if (s.starts_with("pat(") && s.ends_with(")")) {
    item.kind = Item::kPattern;
    item.text = Unquote(Trim(s.substr(4, s.size() - 5)));
    return item;
  }
  if (!IsNumeric(p, f)) return item;
  if (IsTime(p)) {
    item.number = ParseMillis(item.text);
    if (!item.number) {
      return Result<Item>::Error(std::string(PlaceholderName(p)) +
                                 " compares with a time, e.g. 500 (ms), 2s or 30d, found \"" +
                                 item.text + "\"");
    }
    return item;
  }
  if (item.text.size() == 3 && item.text[0] >= '1' && item.text[0] <= '9' &&
      item.text.substr(1) == "xx") {
    item.kind = Item::kClass;
    item.lo = (item.text[0] - '0') * 100;
    item.hi = item.lo + 99;
    return item;
  }
  if (const size_t dash = item.text.find('-'); dash != std::string::npos && dash > 0) {
    auto lo = ParseNumber(item.text.substr(0, dash));
    auto hi = ParseNumber(item.text.substr(dash + 1));
    if (lo && hi && *lo <= *hi) {
      item.kind = Item::kRange;
      item.lo = *lo;
      item.hi = *hi;
      return item;
    }
  }
  item.number = ParseNumber(item.text);
  if (!item.number) {
    return Result<Item>::Error(
        std::string(f == Func::kLen ? "len(...)" : PlaceholderName(p)) +
        " compares with a number, a class like 2xx or a range like 200-299, found \"" + item.text +
        "\"");
  }
  return item;
}

// Splits "a, b, c" at top-level commas (not inside quotes or parentheses).
std::vector<std::string_view> SplitArgs(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  char quote = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

struct Cursor {
  std::string_view text;
  size_t pos = 0;
  std::string Fail(const std::string& why) const {
    return "column " + std::to_string(pos + 1) + ": \"" + std::string(text) + "\": " + why;
  }
};

Status ParseLeft(Cursor& c, Condition::Parsed& out) {
  std::string_view rest = c.text.substr(c.pos);
  for (auto [name, f] : {std::pair{"len(", Func::kLen}, std::pair{"has(", Func::kHas}}) {
    if (rest.starts_with(name)) {
      out.func = f;
      c.pos += 4;
      rest.remove_prefix(4);
    }
  }
  bool found = false;
  for (auto [name, p] : kPlaceholders) {
    if (rest.starts_with(name)) {
      out.placeholder = p;
      c.pos += name.size();
      rest.remove_prefix(name.size());
      found = true;
      break;
    }
  }
  if (!found) {
    return Status::Error(c.Fail(
        "expected a placeholder: [STATUS], [BODY], [RESPONSE_TIME], [CONNECTED], [IP], "
        "[CERTIFICATE_EXPIRATION], [DNS_RCODE] or [DNS_ANSWERS], optionally in len() or has()"));
  }
  size_t end = 0;
  while (end < rest.size() && rest[end] != ' ' && rest[end] != '\t' &&
         !(out.func != Func::kNone && rest[end] == ')')) {
    ++end;
  }
  if (end > 0) {
    if (out.placeholder != Placeholder::kBody) {
      return Status::Error(c.Fail("only [BODY] takes a JSON path"));
    }
    out.json_path = std::string(rest.substr(0, end));
    if (Status s = ValidateJsonPath(out.json_path); !s.ok())
      return Status::Error(c.Fail(s.message()));
    c.pos += end;
  }
  if (out.func != Func::kNone) {
    if (c.pos >= c.text.size() || c.text[c.pos] != ')')
      return Status::Error(c.Fail("expected ')'"));
    ++c.pos;
  }
  return Status::Ok();
}

Status ParseOperator(Cursor& c, Condition::Parsed& out) {
  while (c.pos < c.text.size() && c.text[c.pos] == ' ') ++c.pos;
  for (auto [name, op] : kOps) {
    if (c.text.substr(c.pos).starts_with(name)) {
      out.op = op;
      c.pos += name.size();
      return Status::Ok();
    }
  }
  return Status::Error(c.Fail("expected an operator: ==, !=, <, <=, >, >=, =~ or !~"));
}

Status ParseRight(Cursor& c, Condition::Parsed& out) {
  const std::string_view rhs = Trim(c.text.substr(c.pos));
  while (c.pos < c.text.size() && c.text[c.pos] == ' ') ++c.pos;
  if (rhs.empty()) return Status::Error(c.Fail("expected a value after the operator"));
  const Placeholder p = out.placeholder;
  if (out.op == Op::kMatch || out.op == Op::kNoMatch) {
    try {
      out.regex.emplace(Unquote(rhs), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::Error(c.Fail(std::string("invalid regular expression: ") + e.what()));
    }
    return Status::Ok();
  }
  std::vector<std::string_view> raw{rhs};
  if (rhs.starts_with("any(") && rhs.ends_with(")")) {
    if (out.op != Op::kEq && out.op != Op::kNe) {
      return Status::Error(c.Fail("any(...) needs == or !="));
    }
    raw = SplitArgs(rhs.substr(4, rhs.size() - 5));
  }
  for (std::string_view r : raw) {
    Result<Item> item = ParseItem(r, p, out.func);
    if (!item.ok()) return Status::Error(c.Fail(item.error()));
    out.items.push_back(std::move(item).value());
  }
  const bool ordered = out.op != Op::kEq && out.op != Op::kNe;
  if (ordered && (out.items.size() != 1 || !out.items[0].number.has_value())) {
    // [BODY].path may hold a number; any other non-numeric side cannot be ordered.
    if (!(p == Placeholder::kBody && !out.json_path.empty() && ParseNumber(out.items[0].text))) {
      return Status::Error(c.Fail("<, <=, > and >= need a number on the right"));
    }
    out.items[0].number = ParseNumber(out.items[0].text);
  }
  if ((p == Placeholder::kConnected || out.func == Func::kHas) &&
      (out.items[0].text != "true" && out.items[0].text != "false")) {
    return Status::Error(c.Fail("compares with true or false"));
  }
  return Status::Ok();
}

// A placeholder's value in one observation.
struct Value {
  std::optional<double> number;
  std::string text;               // also the display of numbers and booleans
  std::vector<std::string> list;  // [DNS_ANSWERS]
  bool is_list = false;
  std::string missing;        // why there is no value (e.g. "body is not JSON")
  bool text_pending = false;  // a number whose text is not formatted yet (FillText)
};

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// A number's text is formatted only when a comparison or a message needs it (FillText):
// printf of a double cost more than the rest of judging a run.
Value NumberValue(double v) { return Value{.number = v, .text_pending = true}; }

void FillText(Value& v) {
  if (!v.text_pending) return;
  v.text = FormatNumber(*v.number);
  v.text_pending = false;
}

// Whether Holds reads a value's text, not only its number.
bool NeedsText(const Condition::Parsed& c) {
  if (c.op == Op::kMatch || c.op == Op::kNoMatch) return true;
  if (c.op != Op::kEq && c.op != Op::kNe) return false;
  return std::any_of(c.items.begin(), c.items.end(), [](const Item& item) {
    return item.kind == Item::kPattern || (item.kind == Item::kLiteral && !item.number);
  });
}

Value JsonValue(const Condition::Parsed& c, const Observation& o) {
  boost::json::error_code ec;
  const boost::json::value doc = boost::json::parse(o.body, ec);
  if (ec) return Value{.missing = "the body is not JSON (" + ec.message() + ")"};
  const boost::json::value* v = FindJsonPath(doc, c.json_path);
  if (c.func == Func::kHas) return Value{std::nullopt, v ? "true" : "false"};
  if (!v) return Value{.missing = "the body has no " + c.json_path};
  if (c.func == Func::kLen) {
    if (v->is_array()) return NumberValue(static_cast<double>(v->as_array().size()));
    if (v->is_object()) return NumberValue(static_cast<double>(v->as_object().size()));
    if (v->is_string()) return NumberValue(static_cast<double>(v->as_string().size()));
    return Value{.missing = c.json_path + " has no length: " + boost::json::serialize(*v)};
  }
  if (v->is_string()) return Value{ParseNumber(v->as_string()), std::string(v->as_string())};
  if (v->is_number()) return NumberValue(v->to_number<double>());
  return Value{std::nullopt, boost::json::serialize(*v)};
}

Value ValueOf(const Condition::Parsed& c, const Observation& o, TimePoint now) {
  using Ms = std::chrono::duration<double, std::milli>;
  switch (c.placeholder) {
    case Placeholder::kStatus:
      return NumberValue(o.status);
    case Placeholder::kResponseTime:
      return NumberValue(Ms(o.response_time).count());
    case Placeholder::kConnected:
      return Value{std::nullopt, o.connected ? "true" : "false"};
    case Placeholder::kIp:
      return Value{std::nullopt, o.ip};
    case Placeholder::kDnsRcode:
      return Value{std::nullopt, o.dns_rcode};
    case Placeholder::kCertificateExpiration:
      if (!o.certificate_not_after) return Value{.missing = "no certificate was presented"};
      return NumberValue(Ms(*o.certificate_not_after - now).count());
    case Placeholder::kDnsAnswers:
      if (c.func == Func::kLen) return NumberValue(static_cast<double>(o.dns_answers.size()));
      return Value{std::nullopt, o.body, o.dns_answers, true};
    case Placeholder::kBody:
      if (!c.json_path.empty() || c.func == Func::kHas) return JsonValue(c, o);
      if (c.func == Func::kLen) return NumberValue(static_cast<double>(o.body.size()));
      return Value{ParseNumber(o.body), o.body};
  }
  return Value{};
}

// Glob with * and ?, as Gatus's pat().
bool Glob(std::string_view pattern, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ItemMatches(const Item& item, std::string_view text, std::optional<double> number) {
  switch (item.kind) {
    case Item::kPattern:
      return Glob(item.text, text);
    case Item::kClass:
    case Item::kRange:
      return number && *number >= item.lo && *number <= item.hi;
    case Item::kLiteral:
      if (item.number && number) return std::abs(*item.number - *number) < 1e-9;
      return item.text == text;
  }
  return false;
}

bool Holds(const Condition::Parsed& c, const Value& v) {
  const auto any_of = [&](auto&& pred) {
    if (!v.is_list) return pred(std::string_view(v.text), v.number);
    for (const std::string& e : v.list) {
      if (pred(std::string_view(e), ParseNumber(e))) return true;
    }
    return false;
  };
  switch (c.op) {
    case Op::kEq:
    case Op::kNe: {
      const bool eq = any_of([&](std::string_view t, std::optional<double> n) {
        for (const Item& item : c.items) {
          if (ItemMatches(item, t, n)) return true;
        }
        return false;
      });
      return c.op == Op::kEq ? eq : !eq;
    }
    case Op::kMatch:
    case Op::kNoMatch: {
      const bool m = any_of([&](std::string_view t, std::optional<double>) {
        return std::regex_search(t.begin(), t.end(), *c.regex);
      });
      return c.op == Op::kMatch ? m : !m;
    }
    default:
      break;
  }
  if (!v.number || !c.items[0].number) return false;
  const double l = *v.number, r = *c.items[0].number;
  switch (c.op) {
    case Op::kLt:
      return l < r;
    case Op::kLe:
      return l <= r;
    case Op::kGt:
      return l > r;
    case Op::kGe:
      return l >= r;
    default:
      return false;
  }
}

std::string Shorten(std::string_view s) {
  constexpr size_t kMax = 120;
  std::string out = s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s);
  for (char& ch : out) {
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  }
  return out;
}

std::string Seen(const Condition::Parsed& c, const Value& v, const Observation& o) {
  if (c.func != Func::kNone) return "got " + v.text;
  switch (c.placeholder) {
    case Placeholder::kResponseTime:
      return "took " + FormatNumber(std::round(*v.number)) + " ms";
    case Placeholder::kCertificateExpiration: {
      char days[32];
      std::snprintf(days, sizeof days, "%.1f", *v.number / 86'400'000.0);
      const std::string at = FormatRfc3339Nano(*o.certificate_not_after);
      return *v.number < 0
                 ? "the certificate expired " + std::string(days + 1) + " days ago (" + at + ")"
                 : "the certificate expires in " + std::string(days) + " days (" + at + ")";
    }
    case Placeholder::kDnsAnswers:
      return v.list.empty() ? "got no answers" : "got " + Shorten(v.text);
    case Placeholder::kBody:
      if (c.json_path.empty()) return "got \"" + Shorten(v.text) + "\"";
      return "got " + Shorten(v.text);
    default:
      return "got " + (v.text.empty() ? std::string("nothing") : Shorten(v.text));
  }
}

}  // namespace

std::string_view PlaceholderName(Placeholder p) {
  for (auto [name, q] : kPlaceholders) {
    if (q == p) return name;
  }
  return "?";
}

Result<Condition> Condition::Parse(std::string_view text) {
  auto parsed = std::make_shared<Parsed>();
  parsed->text = std::string(Trim(text));
  Cursor c{parsed->text};
  for (auto step : {ParseLeft, ParseOperator, ParseRight}) {
    if (Status s = step(c, *parsed); !s.ok()) return Result<Condition>::Error(s.message());
  }
  return Condition(std::move(parsed));
}

std::optional<std::string> Condition::Check(const Observation& observation, TimePoint now) const {
  const Parsed& c = *parsed_;
  Value v = ValueOf(c, observation, now);
  if (!v.missing.empty()) return c.text + ": " + v.missing;
  if (NeedsText(c)) FillText(v);
  if (Holds(c, v)) return std::nullopt;
  FillText(v);
  return c.text + ": " + Seen(c, v, observation);
}

Placeholder Condition::placeholder() const { return parsed_->placeholder; }
const std::string& Condition::text() const { return parsed_->text; }

std::vector<std::string> EvaluateConditions(std::span<const Condition> conditions,
                                            const Observation& observation, TimePoint now) {
  std::vector<std::string> errors;
  const bool about_connection = std::any_of(conditions.begin(), conditions.end(), [](auto& c) {
    return c.placeholder() == Placeholder::kConnected;
  });
  if (!observation.error.empty() && !about_connection) return {observation.error};
  for (const Condition& c : conditions) {
    if (!observation.error.empty() && c.placeholder() != Placeholder::kConnected) continue;
    if (auto failed = c.Check(observation, now)) {
      // "[CONNECTED] == true" failed: what went wrong on the way says more than "got false".
      errors.push_back(observation.error.empty() ? std::move(*failed) : observation.error);
    }
  }
  if (errors.size() > 1 && !observation.error.empty()) errors.resize(1);
  return errors;
}

}  // namespace sonde
