#include "contract/status_page_cache.hpp"

#include <algorithm>

#include "contract/json_writer.hpp"

namespace sonde {
namespace {

bool Selected(const std::set<std::string>& namespaces, const CheckKey& key) {
  return namespaces.empty() || namespaces.count(key.ns) > 0;
}

// The members after the details (",\n  \"CurrentMaster\": ..." to the end) as JsonWriter
// writes them, taken from a small document it writes.
std::string Tail(const StatusSnapshot& snap) {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("x");
  w.Null();
  const size_t from = w.str().size();
  w.Key("CurrentMaster");
  w.String(snap.instance);
  WriteMetadata(w, snap.metadata);
  w.EndObject();
  return w.str().substr(from) + "\n";
}

// `errors` as items of the top-level Errors array, "\n    \"...\"" joined by commas.
void AppendErrorItems(std::string& out, const std::vector<std::string>& errors) {
  for (size_t i = 0; i < errors.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    AppendGoJsonString(out, errors[i]);
  }
}

// The check's member of CheckDetails/JobDetails, "\n    \"ns/name\": {...}", written at the
// depth the page has it (inside the top object and CheckDetails).
void AppendMember(std::string& out, const CheckView& c, bool v3) {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("x");
  w.BeginObject();
  const size_t from = w.str().size();
  w.Key(c.spec->key.str());
  WriteStatusDetails(w, c, v3);
  out.append(w.str(), from);
}

// Per check and request: what Render found out about it before writing the body.
enum Mark : uint8_t {
  kSelected = 1,  // in the namespace filter
  kFresh = 2,     // rendered at this request (its kept text, if any, is stale)
  kListed = 4,
  kJob = 8,
  kFails = 16,
};

}  // namespace

std::shared_ptr<const std::string> StatusPageCache::Render(
    const StatusSnapshot& snap, const std::set<std::string>& namespaces) {
  std::vector<const CheckView*> checks;
  checks.reserve(snap.checks.size());
  for (const CheckView& c : snap.checks) checks.push_back(&c);
  const auto by_key = [](const CheckView* a, const CheckView* b) {
    return a->spec->key < b->spec->key;
  };
  // The engine's snapshot is in key order already.
  if (!std::is_sorted(checks.begin(), checks.end(), by_key)) {
    std::sort(checks.begin(), checks.end(), by_key);
  }
  const bool regrouped = Align(checks);
  std::vector<uint8_t> marks(checks.size(), 0);
  bool ok = snap.load_errors.empty();
  last_rendered_ = 0;
  for (size_t i = 0; i < checks.size(); ++i) {
    const Entry& e = entries_[i];
    const CheckView& c = *checks[i];
    if (!Selected(namespaces, c.spec->key)) continue;
    uint8_t m = kSelected;
    if (Changed(e, c)) {
      ++last_rendered_;
      m |= kFresh | (v3_ || c.state.HasResult() ? kListed : 0) | (c.spec->IsJob() ? kJob : 0) |
           (FailsStatusPage(c, v3_) ? kFails : 0);
    } else {
      m |= (e.listed ? kListed : 0) | (e.job ? kJob : 0) | (e.fails ? kFails : 0);
    }
    ok = ok && !(m & kFails);
    marks[i] = m;
  }
  Top top{snap.load_errors, snap.instance, snap.metadata, namespaces};
  last_reused_ = !regrouped && last_rendered_ == 0 && body_ && top == body_top_;
  if (last_reused_) return body_;
  // An unfiltered body holds every check's text: it becomes the kept text. A filtered one
  // leaves the entries as they are (their kept text stays in text_).
  body_ = Assemble(snap, checks, marks, ok, /*keep=*/namespaces.empty());
  body_top_ = std::move(top);
  return body_;
}

void StatusPageCache::Clear() {
  entries_.clear();
  entries_.shrink_to_fit();
  text_.reset();
  body_.reset();
  body_top_ = {};
  last_rendered_ = 0;
  last_reused_ = false;
}

size_t StatusPageCache::MemoryBytes() const {
  size_t n = entries_.capacity() * sizeof(Entry) + (text_ ? HeapBytes(*text_) : 0);
  if (body_ && body_ != text_) n += HeapBytes(*body_);
  return n;
}

bool StatusPageCache::Changed(const Entry& e, const CheckView& c) const {
  if (!e.kept || e.spec != c.spec || c.state_version == 0) return true;
  if (e.state_version != c.state_version) return true;
  return v3_ && e.next_run != c.next_run;
}

std::shared_ptr<const std::string> StatusPageCache::Assemble(
    const StatusSnapshot& snap, const std::vector<const CheckView*>& checks,
    const std::vector<uint8_t>& marks, bool ok, bool keep) {
  auto body = std::make_shared<std::string>();
  std::string& out = *body;
  out.reserve((text_ ? text_->size() + text_->size() / 8 : 0) + 4096);
  out += ok ? "{\n  \"OK\": true,\n  \"Errors\": [" : "{\n  \"OK\": false,\n  \"Errors\": [";
  bool items = !snap.load_errors.empty();
  AppendErrorItems(out, snap.load_errors);
  std::vector<std::string> errors;
  for (size_t i = 0; i < checks.size(); ++i) {
    if (!(marks[i] & kSelected)) continue;
    Entry& e = entries_[i];
    const size_t at = out.size() + (items ? 1 : 0);  // after the comma
    if (!(marks[i] & kFresh)) {
      if (e.errors_size == 0) continue;
      if (items) out += ',';
      out.append(*text_, e.errors_at, e.errors_size);
    } else {
      errors.clear();
      if (CountsTowardErrors(*checks[i], v3_))
        AppendNonBlankErrors(errors, checks[i]->state.errors);
      if (keep) e.errors_size = 0;
      if (errors.empty()) continue;
      if (items) out += ',';
      AppendErrorItems(out, errors);
    }
    items = true;
    if (keep) {
      e.errors_at = at;
      e.errors_size = static_cast<uint32_t>(out.size() - at);
    }
  }
  out += items ? "\n  ]" : "]";
  out += ",\n  \"CheckDetails\": ";
  if (v3_) {
    AppendGroup(out, checks, marks, keep, std::nullopt);
  } else {
    AppendGroup(out, checks, marks, keep, false);
    out += ",\n  \"JobDetails\": ";
    AppendGroup(out, checks, marks, keep, true);
  }
  out += Tail(snap);
  if (keep) {
    for (size_t i = 0; i < checks.size(); ++i) {
      if (!(marks[i] & kFresh)) continue;
      Entry& e = entries_[i];
      const CheckView& c = *checks[i];
      e.spec = c.spec;
      e.state_version = c.state_version;
      e.next_run = v3_ ? c.next_run : std::nullopt;
      e.listed = marks[i] & kListed;
      e.job = marks[i] & kJob;
      e.fails = marks[i] & kFails;
      e.kept = true;
    }
    text_ = body;
  }
  return body;
}

void StatusPageCache::AppendGroup(std::string& out, const std::vector<const CheckView*>& checks,
                                  const std::vector<uint8_t>& marks, bool keep,
                                  std::optional<bool> jobs) {
  out += '{';
  bool first = true;
  for (size_t i = 0; i < checks.size(); ++i) {
    const uint8_t m = marks[i];
    if (!(m & kSelected) || (jobs && static_cast<bool>(m & kJob) != *jobs)) continue;
    Entry& e = entries_[i];
    if (!(m & kListed)) {
      if (keep) e.member_size = 0;
      continue;
    }
    if (!first) out += ',';
    first = false;
    const size_t at = out.size();
    if (m & kFresh) {
      AppendMember(out, *checks[i], v3_);
    } else {
      out.append(*text_, e.member_at, e.member_size);
    }
    if (keep) {
      e.member_at = at;
      e.member_size = static_cast<uint32_t>(out.size() - at);
    }
  }
  out += first ? "}" : "\n  }";
}

bool StatusPageCache::Align(const std::vector<const CheckView*>& checks) {
  const bool same =
      checks.size() == entries_.size() &&
      std::equal(checks.begin(), checks.end(), entries_.begin(),
                 [](const CheckView* c, const Entry& e) { return c->spec->key == e.spec->key; });
  if (same) return false;
  std::vector<Entry> next;
  next.reserve(checks.size());
  auto old = entries_.begin();
  for (const CheckView* c : checks) {
    while (old != entries_.end() && old->spec->key < c->spec->key) ++old;
    if (old != entries_.end() && old->spec->key == c->spec->key) {
      next.push_back(std::move(*old++));
    } else {
      next.emplace_back().spec = c->spec;  // nothing kept yet: Changed says render it
    }
  }
  entries_ = std::move(next);
  return true;
}

}  // namespace sonde
