#include "metrics/metrics_cache.hpp"

#include <algorithm>

#include "metrics/body_families.hpp"

namespace sonde {
namespace {

size_t HeapOf(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

size_t HeapOf(const CheckState& s) {
  size_t n = HeapOf(s.node) + HeapOf(s.authoritative_pod) + HeapOf(s.run_uuid) +
             HeapOf(s.current_uuid) + s.errors.capacity() * sizeof(std::string);
  for (const std::string& e : s.errors) n += HeapOf(e);
  return n;
}

size_t HeapOf(const std::optional<CheckUptime>& u) {
  constexpr size_t kMapNode = 32 + sizeof(std::pair<const std::string, double>);
  return u ? u->ratio_by_window.size() * kMapNode : 0;
}

}  // namespace

std::string MetricsCache::Render(const StatusSnapshot& snap, const SondeMetrics& own,
                                 ExpositionFormat format, TimePoint now,
                                 const UptimeByCheck& uptime, std::vector<Family> extra) {
  if (format_ != format) Clear();
  format_ = format;
  std::vector<std::pair<std::string, const CheckView*>> named;
  named.reserve(snap.checks.size());
  for (const CheckView& c : snap.checks) named.emplace_back(c.spec->key.str(), &c);
  std::sort(named.begin(), named.end());
  const auto same_name = [](const auto& a, const auto& b) { return a.first == b.first; };
  if (std::adjacent_find(named.begin(), named.end(), same_name) != named.end()) {
    // Two checks with one `check` label: their series are ordered by their other labels, which
    // the kept pieces cannot do. Keys are "namespace/name", so this takes a '/' in a namespace.
    Clear();
    return RenderMetrics(snap, own, opts_, format, now, uptime, std::move(extra));
  }
  Align(named);

  std::vector<const CheckView*> all;
  std::vector<const CheckView*> with_result;
  all.reserve(named.size());
  last_rendered_ = 0;
  for (size_t i = 0; i < named.size(); ++i) {
    const CheckView& c = *named[i].second;
    all.push_back(&c);
    if (c.state.HasResult()) with_result.push_back(&c);
    if (Changed(entries_[i], c, own, uptime)) {
      RenderCheck(entries_[i], c, snap, own, format, now, uptime);
      ++last_rendered_;
    }
  }
  const std::set<std::string> unused;
  const BodyInputs in{snap, all, with_result, own, opts_, now, uptime, unused};
  const std::vector<Family> families = BodyFamilies(in, FamilyParts::kShared, std::move(extra));

  const size_t parts = entries_.empty() ? 0 : entries_.front().ends.size();
  size_t size = 64 * 1024;  // the shared families, about 10 KB; more for the operator's
  for (const Entry& e : entries_) size += e.text.size() + 32;  // 32: the seconds_since value
  std::string out;
  out.reserve(size);
  size_t part = 0;
  for (const Family& f : families) {
    if (f.owner == SeriesOwner::kShared || part >= parts) {
      WriteFamily(f, format, out);
      continue;
    }
    const size_t k = part++;
    auto text_of = [k](const Entry& e) {
      const size_t begin = k == 0 ? 0 : e.ends[k - 1];
      return std::string_view(e.text).substr(begin, e.ends[k] - begin);
    };
    const bool any = std::any_of(entries_.begin(), entries_.end(),
                                 [&](const Entry& e) { return !text_of(e).empty(); });
    if (!any) continue;  // as WriteFamily skips a family without series
    WriteFamilyHeader(f, format, out);
    for (const Entry& e : entries_) {
      const std::string_view text = text_of(e);
      if (text.empty()) continue;
      out += text;
      if (f.owner == SeriesOwner::kCheckLastOkAge) {
        out += FormatSampleValue(SecondsSinceLastOk(e.state, now));
        out += '\n';
      }
    }
  }
  WriteEnd(format, out);
  return out;
}

void MetricsCache::Clear() {
  entries_.clear();
  entries_.shrink_to_fit();
  format_.reset();
  last_rendered_ = 0;
}

size_t MetricsCache::MemoryBytes() const {
  size_t n = entries_.capacity() * sizeof(Entry);
  for (const Entry& e : entries_) {
    n += HeapOf(e.name) + HeapOf(e.text) + e.ends.capacity() * sizeof(uint32_t) + HeapOf(e.state) +
         HeapOf(e.uptime);
  }
  return n;
}

bool MetricsCache::Changed(const Entry& e, const CheckView& c, const SondeMetrics& own,
                           const UptimeByCheck& uptime) const {
  if (e.ends.empty() || e.spec != c.spec || !(e.state == c.state)) return true;
  if (e.own_version != own.CheckVersion(e.name)) return true;
  const auto found = uptime.find(c.spec->key);
  if (found == uptime.end()) return e.uptime.has_value();
  return !e.uptime || !(*e.uptime == found->second);
}

void MetricsCache::RenderCheck(Entry& e, const CheckView& c, const StatusSnapshot& snap,
                               const SondeMetrics& own, ExpositionFormat format, TimePoint now,
                               const UptimeByCheck& uptime) {
  const std::vector<const CheckView*> one{&c};
  const std::vector<const CheckView*> none;
  const std::set<std::string> unused;
  const BodyInputs in{snap, one, c.state.HasResult() ? one : none, own, opts_, now, uptime, unused};
  std::string text;
  e.ends.clear();
  for (const Family& f : BodyFamilies(in, FamilyParts::kChecks, {})) {
    if (f.owner == SeriesOwner::kShared) continue;
    const size_t begin = text.size();
    WriteSamples(f, format, text);
    if (f.owner == SeriesOwner::kCheckLastOkAge && text.size() > begin) {
      text.resize(text.rfind(' ') + 1);  // the value changes with `now`: written at every scrape
    }
    e.ends.push_back(static_cast<uint32_t>(text.size()));
  }
  text.shrink_to_fit();  // kept for long: no growth slack
  e.text = std::move(text);
  e.spec = c.spec;
  e.state = c.state;
  e.own_version = own.CheckVersion(e.name);
  const auto found = uptime.find(c.spec->key);
  e.uptime = found == uptime.end() ? std::nullopt : std::optional<CheckUptime>(found->second);
}

void MetricsCache::Align(const std::vector<std::pair<std::string, const CheckView*>>& named) {
  const bool same = named.size() == entries_.size() &&
                    std::equal(named.begin(), named.end(), entries_.begin(),
                               [](const auto& n, const Entry& e) { return n.first == e.name; });
  if (same) return;
  std::vector<Entry> next;
  next.reserve(named.size());
  auto old = entries_.begin();
  for (const auto& [name, check] : named) {
    while (old != entries_.end() && old->name < name) ++old;
    if (old != entries_.end() && old->name == name) {
      next.push_back(std::move(*old++));
    } else {
      next.emplace_back().name = name;
    }
  }
  entries_ = std::move(next);
}

}  // namespace sonde
