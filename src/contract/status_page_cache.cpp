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

// ",\n    \"error\"" for each of `errors`: items of the top-level Errors array.
void AppendErrorItems(std::string& out, const std::vector<std::string>& errors) {
  for (const std::string& e : errors) {
    out += ",\n    ";
    AppendGoJsonString(out, e);
  }
}

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
  bool changed = Align(checks);
  last_rendered_ = 0;
  for (size_t i = 0; i < checks.size(); ++i) {
    if (!Changed(entries_[i], *checks[i])) continue;
    RenderCheck(entries_[i], *checks[i]);
    ++last_rendered_;
  }
  changed = changed || last_rendered_ > 0;
  Top top{snap.load_errors, snap.instance, snap.metadata, namespaces};
  last_reused_ = !changed && body_ && top == body_top_;
  if (last_reused_) return body_;
  body_ = std::make_shared<const std::string>(Assemble(snap, namespaces));
  body_top_ = std::move(top);
  return body_;
}

void StatusPageCache::Clear() {
  entries_.clear();
  entries_.shrink_to_fit();
  body_.reset();
  body_top_ = {};
  last_rendered_ = 0;
  last_reused_ = false;
}

size_t StatusPageCache::MemoryBytes() const {
  size_t n = entries_.capacity() * sizeof(Entry) + (body_ ? HeapBytes(*body_) : 0);
  for (const Entry& e : entries_) {
    n += HeapBytes(e.key.ns) + HeapBytes(e.key.name) + HeapBytes(e.state) + HeapBytes(e.member) +
         HeapBytes(e.errors);
  }
  return n;
}

bool StatusPageCache::Changed(const Entry& e, const CheckView& c) const {
  if (e.spec != c.spec || !(e.state == c.state)) return true;
  return v3_ && e.next_run != c.next_run;
}

void StatusPageCache::RenderCheck(Entry& e, const CheckView& c) const {
  e.spec = c.spec;
  e.state = c.state;
  e.next_run = v3_ ? c.next_run : std::nullopt;
  e.job = c.spec->IsJob();
  e.listed = v3_ || c.state.HasResult();
  e.fails = FailsStatusPage(c, v3_);
  e.member.clear();
  if (e.listed) {
    // Written at the depth the page has it (inside the top object and CheckDetails).
    JsonWriter w(/*pretty=*/true);
    w.BeginObject();
    w.Key("x");
    w.BeginObject();
    const size_t from = w.str().size();
    w.Key(c.spec->key.str());
    WriteStatusDetails(w, c, v3_);
    e.member.assign(w.str(), from);
  }
  e.errors.clear();
  if (CountsTowardErrors(c, v3_)) {
    std::vector<std::string> errors;
    AppendNonBlankErrors(errors, c.state.errors);
    AppendErrorItems(e.errors, errors);
  }
}

bool StatusPageCache::Align(const std::vector<const CheckView*>& checks) {
  const bool same =
      checks.size() == entries_.size() &&
      std::equal(checks.begin(), checks.end(), entries_.begin(),
                 [](const CheckView* c, const Entry& e) { return c->spec->key == e.key; });
  if (same) return false;
  std::vector<Entry> next;
  next.reserve(checks.size());
  auto old = entries_.begin();
  for (const CheckView* c : checks) {
    while (old != entries_.end() && old->key < c->spec->key) ++old;
    if (old != entries_.end() && old->key == c->spec->key) {
      next.push_back(std::move(*old++));
    } else {
      next.emplace_back().key = c->spec->key;  // no spec yet: Changed says render it
    }
  }
  entries_ = std::move(next);
  return true;
}

std::string StatusPageCache::Assemble(const StatusSnapshot& snap,
                                      const std::set<std::string>& namespaces) const {
  std::string items;  // of Errors, each with a comma before it
  AppendErrorItems(items, snap.load_errors);
  bool ok = snap.load_errors.empty();
  size_t size = 0;
  for (const Entry& e : entries_) {
    if (!Selected(namespaces, e.key)) continue;
    items += e.errors;
    ok = ok && !e.fails;
    size += e.member.size() + 1;
  }
  const std::string tail = Tail(snap);
  std::string out;
  out.reserve(size + items.size() + tail.size() + 128);
  out += ok ? "{\n  \"OK\": true,\n  \"Errors\": " : "{\n  \"OK\": false,\n  \"Errors\": ";
  if (items.empty()) {
    out += "[]";
  } else {
    out += '[';
    out.append(items, 1).append("\n  ]");  // the first item has no comma
  }
  out += ",\n  \"CheckDetails\": ";
  if (v3_) {
    AppendGroup(out, namespaces, std::nullopt);
  } else {
    AppendGroup(out, namespaces, false);
    out += ",\n  \"JobDetails\": ";
    AppendGroup(out, namespaces, true);
  }
  out += tail;
  return out;
}

// `jobs`: only jobs (true), only the others (false), or every check (none).
void StatusPageCache::AppendGroup(std::string& out, const std::set<std::string>& namespaces,
                                  std::optional<bool> jobs) const {
  out += '{';
  bool first = true;
  for (const Entry& e : entries_) {
    if (!e.listed || (jobs && e.job != *jobs) || !Selected(namespaces, e.key)) continue;
    if (!first) out += ',';
    first = false;
    out += e.member;
  }
  out += first ? "}" : "\n  }";
}

}  // namespace sonde
