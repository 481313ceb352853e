#include "metrics/metrics_cache.hpp"

#include <algorithm>

#include "metrics/body_families.hpp"

namespace sonde {
namespace {

size_t HeapBytes(const std::optional<CheckUptime>& u) {
  constexpr size_t kMapNode = 32 + sizeof(std::pair<const std::string, double>);
  return u ? u->ratio_by_window.size() * kMapNode : 0;
}

// The uptime of `key`, trying `hint` (the entry after the previous check's) before a search:
// checks come in name order, which is the map's key order for most key sets.
const CheckUptime* FindUptime(const UptimeByCheck& uptime, UptimeByCheck::const_iterator& hint,
                              const CheckKey& key) {
  if (hint == uptime.end() || !(hint->first == key)) hint = uptime.find(key);
  if (hint == uptime.end()) return nullptr;
  return &(hint++)->second;
}

}  // namespace

std::string MetricsCache::Render(const StatusSnapshot& snap, const SondeMetrics& own,
                                 ExpositionFormat format, TimePoint now,
                                 const UptimeByCheck& uptime, std::vector<Family> extra) {
  const std::vector<BodyPart> parts = RenderParts(snap, own, format, now, uptime, std::move(extra));
  size_t size = 0;
  for (const BodyPart& part : parts) size += part.text.size();
  std::string out;
  out.reserve(size);
  for (const BodyPart& part : parts) out += part.text;
  return out;
}

std::vector<MetricsCache::BodyPart> MetricsCache::RenderParts(
    const StatusSnapshot& snap, const SondeMetrics& own, ExpositionFormat format, TimePoint now,
    const UptimeByCheck& uptime, std::vector<Family> extra) {
  if (format_ != format) Clear();
  format_ = format;
  std::vector<std::pair<std::string, const CheckView*>> named;
  named.reserve(snap.checks.size());
  for (const CheckView& c : snap.checks) named.emplace_back(c.spec->key.str(), &c);
  // The engine's key order is name order unless a namespace holds a character below '/'.
  if (!std::is_sorted(named.begin(), named.end())) std::sort(named.begin(), named.end());
  const auto same_name = [](const auto& a, const auto& b) { return a.first == b.first; };
  if (std::adjacent_find(named.begin(), named.end(), same_name) != named.end()) {
    // Two checks with one `check` label: their series are ordered by their other labels, which
    // the kept pieces cannot do. Keys are "namespace/name", so this takes a '/' in a namespace.
    Clear();
    auto whole = std::make_shared<const std::string>(
        RenderMetrics(snap, own, opts_, format, now, uptime, std::move(extra)));
    return {BodyPart{whole, *whole}};
  }
  const bool regrouped = Align(named);

  std::vector<const CheckView*> all;
  std::vector<const CheckView*> with_result;
  all.reserve(named.size());
  last_rendered_ = 0;
  auto version = own.check_versions().begin();
  auto uptime_hint = uptime.begin();
  for (size_t i = 0; i < named.size(); ++i) {
    const CheckView& c = *named[i].second;
    all.push_back(&c);
    if (c.state.HasResult()) with_result.push_back(&c);
    // Names ascend: the versions map (name order too) is walked once.
    while (version != own.check_versions().end() && version->first < named[i].first) ++version;
    const bool versioned =
        version != own.check_versions().end() && version->first == named[i].first;
    const CheckUptime* u = FindUptime(uptime, uptime_hint, c.spec->key);
    if (Changed(entries_[i], c, versioned ? version->second : 0, u)) {
      RenderCheck(entries_[i], c, snap, own, format, now, uptime);
      ++last_rendered_;
    }
  }
  if (regrouped || last_rendered_ > 0) {
    for (size_t part = 0; part < columns_.size(); ++part) {
      if (regrouped || !OverwriteInPlace(part)) RebuildColumn(part);
    }
  }
  for (Entry& e : entries_) {
    e.fresh = {};
    e.fresh_ends = {};
  }

  const std::set<std::string> unused;
  const BodyInputs in{snap, all, with_result, own, opts_, now, uptime, unused};
  const std::vector<Family> families = BodyFamilies(in, FamilyParts::kShared, std::move(extra));
  // The kept columns are parts of the body as they are; the text between them (family headers,
  // shared families, the values that depend on `now`) goes into strings of its own.
  std::vector<BodyPart> parts;
  auto own_text = std::make_shared<std::string>();
  const auto flush = [&] {
    if (own_text->empty()) return;
    parts.push_back({own_text, *own_text});
    own_text = std::make_shared<std::string>();
  };
  size_t part = 0;
  for (const Family& f : families) {
    if (f.owner == SeriesOwner::kShared || part >= columns_.size()) {
      WriteFamily(f, format, *own_text);
      continue;
    }
    const std::shared_ptr<std::string>& column = columns_[part];
    const size_t k = part++;
    if (column->empty()) continue;  // as WriteFamily skips a family without series
    WriteFamilyHeader(f, format, *own_text);
    if (f.owner != SeriesOwner::kCheckLastOkAge) {
      flush();
      parts.push_back({column, *column});
      continue;
    }
    own_text->reserve(own_text->size() + column->size() + entries_.size() * 24);
    for (const Entry& e : entries_) {
      if (e.pieces[k].size == 0) continue;
      own_text->append(*column, e.pieces[k].begin, e.pieces[k].size);
      *own_text += FormatSampleValue(SecondsSinceLastOk(e.last_ok, now));
      *own_text += '\n';
    }
  }
  WriteEnd(format, *own_text);
  flush();
  return parts;
}

void MetricsCache::Clear() {
  entries_.clear();
  entries_.shrink_to_fit();
  columns_.clear();
  columns_.shrink_to_fit();
  format_.reset();
  last_rendered_ = 0;
}

size_t MetricsCache::MemoryBytes() const {
  size_t n = entries_.capacity() * sizeof(Entry) + columns_.capacity() * sizeof(columns_[0]);
  for (const auto& column : columns_) n += HeapBytes(*column);
  for (const Entry& e : entries_) {
    n += HeapBytes(e.name) + e.pieces.capacity() * sizeof(Piece) + HeapBytes(e.uptime);
  }
  return n;
}

bool MetricsCache::Changed(const Entry& e, const CheckView& c, uint64_t version,
                           const CheckUptime* uptime) {
  if (e.pieces.empty() || e.spec != c.spec || e.own_version != version) return true;
  if (c.state_version == 0 || e.state_version != c.state_version) return true;
  if (uptime == nullptr) return e.uptime.has_value();
  if (!e.uptime) return true;
  if (uptime->version != 0 && uptime->version == e.uptime->version) return false;
  return !(*e.uptime == *uptime);
}

void MetricsCache::RenderCheck(Entry& e, const CheckView& c, const StatusSnapshot& snap,
                               const SondeMetrics& own, ExpositionFormat format, TimePoint now,
                               const UptimeByCheck& uptime) {
  const std::vector<const CheckView*> one{&c};
  const std::vector<const CheckView*> none;
  const std::set<std::string> unused;
  const BodyInputs in{snap, one, c.state.HasResult() ? one : none, own, opts_, now, uptime, unused};
  e.fresh.clear();
  e.fresh_ends.clear();
  for (const Family& f : BodyFamilies(in, FamilyParts::kChecks, {})) {
    if (f.owner == SeriesOwner::kShared) continue;
    const size_t begin = e.fresh.size();
    WriteSamples(f, format, e.fresh);
    if (f.owner == SeriesOwner::kCheckLastOkAge && e.fresh.size() > begin) {
      e.fresh.resize(e.fresh.rfind(' ') + 1);  // the value changes with `now`: see columns_
    }
    e.fresh_ends.push_back(static_cast<uint32_t>(e.fresh.size()));
  }
  // Every check has the same per-check families; the first rendered one sets their number.
  if (columns_.empty()) {
    for (size_t i = 0; i < e.fresh_ends.size(); ++i) {
      columns_.push_back(std::make_shared<std::string>());
    }
  }
  e.pieces.resize(columns_.size());
  e.spec = c.spec;
  e.state_version = c.state_version;
  e.last_ok = c.state.last_ok;
  e.own_version = own.CheckVersion(e.name);
  const auto found = uptime.find(c.spec->key);
  e.uptime = found == uptime.end() ? std::nullopt : std::optional<CheckUptime>(found->second);
}

bool MetricsCache::OverwriteInPlace(size_t part) {
  auto fresh_of = [part](const Entry& e) {
    const uint32_t begin = part == 0 ? 0 : e.fresh_ends[part - 1];
    return std::string_view(e.fresh).substr(begin, e.fresh_ends[part] - begin);
  };
  for (const Entry& e : entries_) {
    if (!e.fresh_ends.empty() && fresh_of(e).size() != e.pieces[part].size) return false;
  }
  // A body still being sent may hold the column: change a copy then (copy on write).
  if (columns_[part].use_count() > 1) {
    columns_[part] = std::make_shared<std::string>(*columns_[part]);
  }
  std::string& column = *columns_[part];
  for (const Entry& e : entries_) {
    if (!e.fresh_ends.empty())
      column.replace(e.pieces[part].begin, e.pieces[part].size, fresh_of(e));
  }
  return true;
}

void MetricsCache::RebuildColumn(size_t part) {
  const std::string& old = *columns_[part];
  std::string next;
  size_t size = 0;
  for (const Entry& e : entries_) {
    size += e.fresh_ends.empty() ? e.pieces[part].size
                                 : e.fresh_ends[part] - (part == 0 ? 0 : e.fresh_ends[part - 1]);
  }
  next.reserve(size);
  // Unchanged neighbours' pieces are adjacent in the old column too: copy such runs at once.
  size_t run_begin = 0;  // [run_begin, run_end) of `old` is still to be copied
  size_t run_end = 0;
  auto flush = [&] {
    next.append(old, run_begin, run_end - run_begin);
    run_begin = run_end;
  };
  for (Entry& e : entries_) {
    Piece& p = e.pieces[part];
    if (e.fresh_ends.empty()) {
      if (p.begin != run_end) {
        flush();
        run_begin = run_end = p.begin;
      }
      const size_t at = next.size() + (p.begin - run_begin);
      run_end = p.begin + p.size;
      p.begin = static_cast<uint32_t>(at);
      continue;
    }
    flush();
    const uint32_t begin = part == 0 ? 0 : e.fresh_ends[part - 1];
    p = {static_cast<uint32_t>(next.size()), e.fresh_ends[part] - begin};
    next.append(e.fresh, begin, p.size);
  }
  flush();
  columns_[part] = std::make_shared<std::string>(std::move(next));
}

bool MetricsCache::Align(const std::vector<std::pair<std::string, const CheckView*>>& named) {
  const bool same = named.size() == entries_.size() &&
                    std::equal(named.begin(), named.end(), entries_.begin(),
                               [](const auto& n, const Entry& e) { return n.first == e.name; });
  if (same) return false;
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
  return true;
}

}  // namespace sonde
