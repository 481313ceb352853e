// The exposition model and its writer: metric families as plain values, written in the
// Prometheus text format 0.0.4 or OpenMetrics 1.0.0. Every renderer builds `Family` values and
// hands them here, so escaping, number formatting, sample order and the per-format naming rules
// (counter `_total`, histogram suffixes, `# EOF`) live in one place.
// Pure functions; thread-safe. Never fails: any byte content in a label value becomes a valid
// exposition (escaped, invalid UTF-8 replaced by U+FFFD).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sonde {

enum class ExpositionFormat {
  kText004,         // text/plain; version=0.0.4
  kOpenMetrics100,  // application/openmetrics-text; version=1.0.0
};

// The Content-Type header value for `format`.
const char* ContentTypeOf(ExpositionFormat format);

enum class MetricType { kCounter, kGauge, kHistogram };

struct Label {
  std::string name;   // a valid Prometheus label name; the writer does not check it
  std::string value;  // any bytes; escaped and UTF-8-repaired when written
  bool operator==(const Label&) const = default;
};
using Labels = std::vector<Label>;

// Cumulative bucket counts, as Prometheus exposes them. `counts[i]` is the number of
// observations <= bounds[i]; the +Inf bucket is `count`.
struct HistogramValue {
  std::vector<double> bounds;    // ascending, finite
  std::vector<uint64_t> counts;  // same size as bounds, cumulative
  double sum = 0;
  uint64_t count = 0;
};

struct Series {
  Labels labels;             // written in this order
  double value = 0;          // counters and gauges
  std::string value_text;    // when non-empty, written instead of `value` (e.g. "%f" forms)
  HistogramValue histogram;  // histograms only
};

// Whose series a family holds. Writing ignores it; MetricsCache (metrics_cache.hpp) keeps the
// per-check ones rendered between scrapes and rebuilds the shared ones at every scrape.
enum class SeriesOwner {
  kShared,          // series of the daemon or of all checks together
  kCheck,           // each series belongs to one check (its first label is `check`)
  kCheckLastOkAge,  // as kCheck, one series per check, whose value is SecondsSinceLastOk(now)
};

struct Family {
  // Counters: the sample name, ending in "_total" (OpenMetrics names the family without it).
  // Histograms: the base name (samples get _bucket, _sum, _count).
  std::string name;
  MetricType type = MetricType::kGauge;
  std::string help;
  std::vector<Series> series;  // any order; written sorted by labels
  SeriesOwner owner = SeriesOwner::kShared;
};

// Appends `family` to `out`: HELP, TYPE, then its samples sorted by their label pairs.
// A family without series is skipped (as client_golang does).
void WriteFamily(const Family& family, ExpositionFormat format, std::string& out);

// The two halves of WriteFamily: the HELP and TYPE lines (even without series), and the samples
// alone.
void WriteFamilyHeader(const Family& family, ExpositionFormat format, std::string& out);
void WriteSamples(const Family& family, ExpositionFormat format, std::string& out);

// What ends a document: "# EOF\n" for OpenMetrics, nothing for text 0.0.4.
void WriteEnd(ExpositionFormat format, std::string& out);

// Appends `value` escaped for a label value (\\, \", \n), with invalid UTF-8 replaced by
// U+FFFD since Prometheus rejects label values that are not valid UTF-8.
void AppendEscapedLabelValue(std::string& out, std::string_view value);

// `s` with each invalid UTF-8 sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view s);

// The longest prefix of `s` (valid UTF-8) of at most `max_bytes` bytes that does not split a
// character.
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

// A sample value as Prometheus writes it: shortest round-trip form, "+Inf", "-Inf", "NaN".
std::string FormatSampleValue(double v);

}  // namespace sonde
