#include "metrics/family.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace sonde {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (truncated,
// overlong, a surrogate or beyond U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  // Lead byte pattern -> sequence length, its payload bits and the smallest code point that
  // needs this length (anything smaller is an overlong form).
  struct Lead {
    unsigned char mask, value;
    size_t length;
    uint32_t min;
  };
  static constexpr Lead kLeads[] = {
      {0xE0, 0xC0, 2, 0x80}, {0xF0, 0xE0, 3, 0x800}, {0xF8, 0xF0, 4, 0x10000}};
  const Lead* lead = nullptr;
  for (const Lead& l : kLeads) {
    if ((c & l.mask) == l.value) lead = &l;
  }
  if (lead == nullptr) return 0;
  const size_t n = lead->length;
  const uint32_t min = lead->min;
  uint32_t cp = c & static_cast<unsigned char>(~lead->mask);
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// HELP text escaping differs: OpenMetrics also escapes the double quote.
void AppendEscapedHelp(std::string& out, std::string_view help, ExpositionFormat format) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && format == ExpositionFormat::kOpenMetrics100) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// OpenMetrics names a counter family without the "_total" its sample carries.
std::string_view HeaderName(const Family& f, ExpositionFormat format) {
  std::string_view name = f.name;
  constexpr std::string_view kTotal = "_total";
  if (format == ExpositionFormat::kOpenMetrics100 && f.type == MetricType::kCounter &&
      name.size() > kTotal.size() && name.ends_with(kTotal)) {
    name.remove_suffix(kTotal.size());
  }
  return name;
}

void AppendLabels(std::string& out, const Labels& labels, const Label* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return;
  out += '{';
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    AppendEscapedLabelValue(out, l.value);
    out += '"';
  };
  for (const Label& l : labels) one(l);
  if (extra != nullptr) one(*extra);
  out += '}';
}

void AppendSample(std::string& out, std::string_view name, const Labels& labels,
                  std::string_view value, const Label* extra = nullptr) {
  out += name;
  AppendLabels(out, labels, extra);
  out += ' ';
  out += value;
  out += '\n';
}

void AppendUnsigned(std::string& out, uint64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// OpenMetrics wants bucket bounds in canonical form ("1.0"); text 0.0.4 clients write Go's
// shortest form ("1"), which is what existing Kuberhealthy series carry.
std::string FormatBound(double bound, ExpositionFormat format) {
  if (format == ExpositionFormat::kOpenMetrics100 && std::isfinite(bound) &&
      bound == std::floor(bound) && std::fabs(bound) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", bound);
    return buf;
  }
  return FormatSampleValue(bound);
}

// The labels are escaped once per series, not once per bucket line: a histogram per check is
// most of a large scrape.
void AppendHistogram(std::string& out, const std::string& name, const Series& s,
                     const std::vector<std::string>& bounds) {
  const HistogramValue& h = s.histogram;
  std::string labels;  // `a="x",b="y",`
  for (const Label& l : s.labels) {
    labels += l.name;
    labels += "=\"";
    AppendEscapedLabelValue(labels, l.value);
    labels += "\",";
  }
  auto bucket = [&](std::string_view bound, uint64_t count) {
    out += name;
    out += "_bucket{";
    out += labels;
    out += "le=\"";
    out += bound;
    out += "\"} ";
    AppendUnsigned(out, count);
    out += '\n';
  };
  for (size_t i = 0; i < bounds.size() && i < h.counts.size(); ++i) bucket(bounds[i], h.counts[i]);
  bucket("+Inf", h.count);
  auto total = [&](std::string_view suffix) {
    out += name;
    out += suffix;
    if (!labels.empty()) {
      out += '{';
      out.append(labels, 0, labels.size() - 1);
      out += '}';
    }
    out += ' ';
  };
  total("_sum");
  out += FormatSampleValue(h.sum);
  out += '\n';
  total("_count");
  AppendUnsigned(out, h.count);
  out += '\n';
}

bool LabelsLess(const Series* a, const Series* b) {
  return std::lexicographical_compare(a->labels.begin(), a->labels.end(), b->labels.begin(),
                                      b->labels.end(), [](const Label& x, const Label& y) {
                                        return x.name != y.name ? x.name < y.name
                                                                : x.value < y.value;
                                      });
}

}  // namespace

const char* ContentTypeOf(ExpositionFormat format) {
  return format == ExpositionFormat::kOpenMetrics100
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

void WriteFamily(const Family& family, ExpositionFormat format, std::string& out) {
  if (family.series.empty()) return;
  WriteFamilyHeader(family, format, out);
  WriteSamples(family, format, out);
}

void WriteFamilyHeader(const Family& family, ExpositionFormat format, std::string& out) {
  const std::string_view header = HeaderName(family, format);
  out += "# HELP ";
  out += header;
  out += ' ';
  AppendEscapedHelp(out, family.help, format);
  out += "\n# TYPE ";
  out += header;
  out += ' ';
  out += TypeName(family.type);
  out += '\n';
}

void WriteSamples(const Family& family, ExpositionFormat format, std::string& out) {
  // Sort pointers: series may carry megabyte label values.
  std::vector<const Series*> sorted;
  sorted.reserve(family.series.size());
  for (const Series& s : family.series) sorted.push_back(&s);
  // Renderers mostly hand series over in order already: checking is n comparisons, sorting
  // n log n (a third of a 10k-check /metrics when it was unconditional).
  if (!std::is_sorted(sorted.begin(), sorted.end(), LabelsLess)) {
    std::stable_sort(sorted.begin(), sorted.end(), LabelsLess);
  }
  std::vector<double> bounds;  // of the last histogram series, and their text in `format`
  std::vector<std::string> bound_texts;
  for (const Series* s : sorted) {
    if (family.type == MetricType::kHistogram) {
      if (s->histogram.bounds != bounds) {  // the same for every series of a family, usually
        bounds = s->histogram.bounds;
        bound_texts.clear();
        for (double b : bounds) bound_texts.push_back(FormatBound(b, format));
      }
      AppendHistogram(out, family.name, *s, bound_texts);
    } else {
      AppendSample(out, family.name, s->labels,
                   s->value_text.empty() ? FormatSampleValue(s->value) : s->value_text);
    }
  }
}

void WriteEnd(ExpositionFormat format, std::string& out) {
  if (format == ExpositionFormat::kOpenMetrics100) out += "# EOF\n";
}

void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  // Most values are plain ASCII with nothing to escape: one append.
  const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x80 && c != '\\' && c != '"' && c != '\n';
  });
  if (plain) {
    out.append(value);
    return;
  }
  for (size_t i = 0; i < value.size();) {
    const size_t n = Utf8SequenceLength(value, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (n == 1) {
      const char c = value[i];
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    } else {
      out.append(value.substr(i, n));
    }
    i += n;
  }
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  // Back up over continuation bytes to the start of the character that would be split.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Most samples are small whole numbers (states, bucket counts): the integer conversion is
  // several times faster and, below 10000, writes what the shortest form would (from 5 digits
  // on, the shortest form of 10000 is "1e+04").
  if (v == std::trunc(v) && std::fabs(v) < 10000) {
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    return std::string(buf, end);
  }
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";  // cannot happen: 64 bytes hold any double
  return std::string(buf, end);
}

}  // namespace sonde
