#include "deploy/helm_render.hpp"

#include <algorithm>
#include <vector>

#include "deploy/manifests.hpp"

namespace sonde::deploy_test {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

class Renderer {
 public:
  Renderer(std::string_view text, const std::string& file, const YAML::Node& values,
           const HelmRelease& release, std::set<std::string>* used)
      : text_(text), file_(file), values_(values), release_(release), used_(used) {}

  Result<std::string> Run() {
    size_t pos = 0;
    bool trim_next = false;
    while (pos < text_.size()) {
      const size_t open = text_.find("{{", pos);
      std::string_view literal =
          text_.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos);
      if (trim_next) {
        while (!literal.empty() && IsSpace(literal.front())) literal.remove_prefix(1);
      }
      Emit(literal);
      if (open == std::string_view::npos) break;
      const size_t close = text_.find("}}", open);
      if (close == std::string_view::npos) return Fail(open, "unclosed {{");
      std::string_view action = text_.substr(open + 2, close - open - 2);
      if (action.starts_with("- ")) {
        TrimOutputEnd();
        action.remove_prefix(2);
      }
      trim_next = action.ends_with(" -");
      if (trim_next) action.remove_suffix(2);
      if (Status s = Act(Trim(action), open); !s.ok())
        return Result<std::string>::Error(s.message());
      pos = close + 2;
    }
    if (!conditions_.empty()) return Fail(text_.size(), "{{ if }} without {{ end }}");
    return out_;
  }

 private:
  bool Emitting() const {
    return std::all_of(conditions_.begin(), conditions_.end(), [](bool c) { return c; });
  }
  void Emit(std::string_view s) {
    if (Emitting()) out_.append(s);
  }
  void TrimOutputEnd() {
    if (!Emitting()) return;
    while (!out_.empty() && IsSpace(out_.back())) out_.pop_back();
  }

  std::string Where(size_t offset) const {
    const auto line = std::count(text_.begin(), text_.begin() + offset, '\n') + 1;
    return file_ + ":" + std::to_string(line);
  }
  Result<std::string> Fail(size_t offset, const std::string& message) const {
    return Result<std::string>::Error(Where(offset) + ": " + message);
  }

  Status Act(std::string_view action, size_t offset) {
    if (action == "end") {
      if (conditions_.empty()) return Status::Error(Where(offset) + ": {{ end }} without {{ if }}");
      conditions_.pop_back();
      return Status::Ok();
    }
    if (action.starts_with("if ")) {
      auto v = Lookup(Trim(action.substr(3)), offset);
      if (!v.ok()) return Status::Error(v.error());
      conditions_.push_back(Truthy(v.value()));
      return Status::Ok();
    }
    auto v = Lookup(action, offset);
    if (!v.ok()) return Status::Error(v.error());
    const YAML::Node& n = v.value();
    if (!n.IsScalar() || TypeOf(n) == ScalarType::kNull) {
      return Status::Error(Where(offset) + ": {{ " + std::string(action) +
                           " }} must be a scalar value (helm would print a Go value)");
    }
    if (TypeOf(n) == ScalarType::kBool) {
      Emit(Truthy(n) ? "true" : "false");
    } else {
      Emit(n.Scalar());
    }
    return Status::Ok();
  }

  Result<YAML::Node> Lookup(std::string_view expr, size_t offset) const {
    using R = Result<YAML::Node>;
    if (expr == ".Release.Namespace") return YAML::Node(release_.name_space);
    if (expr == ".Release.Name") return YAML::Node(release_.name);
    if (!expr.starts_with(".Values.")) {
      return R::Error(Where(offset) + ": unsupported template action {{ " + std::string(expr) +
                      " }} (allowed: .Values.x, .Release.Namespace, .Release.Name, if, end)");
    }
    const std::string path(expr.substr(8));
    if (path.find_first_of(" |()\"") != std::string::npos) {
      return R::Error(Where(offset) + ": unsupported template action {{ " + std::string(expr) +
                      " }} (no pipelines or functions)");
    }
    YAML::Node n = At(values_, path);
    if (!n.IsDefined()) {
      return R::Error(Where(offset) + ": .Values." + path + " is not in values.yaml");
    }
    if (used_ != nullptr) used_->insert(path);
    return n;
  }

  static bool Truthy(const YAML::Node& n) {
    if (n.IsMap() || n.IsSequence()) return n.size() > 0;
    if (!n.IsScalar()) return false;
    switch (TypeOf(n)) {
      case ScalarType::kNull:
        return false;
      case ScalarType::kBool:
        return BoolValue(n);
      case ScalarType::kInt:
      case ScalarType::kFloat:
        // Zero however written (0, 0.0, 0x0, 0e5); no parse, so nothing can throw.
        return n.Scalar().find_first_not_of("+-0._xXbBoeE") != std::string::npos;
      case ScalarType::kString:
        return !n.Scalar().empty();
    }
    return false;
  }

  std::string_view text_;
  const std::string& file_;
  const YAML::Node& values_;
  const HelmRelease& release_;
  std::set<std::string>* used_;
  std::vector<bool> conditions_;
  std::string out_;
};

}  // namespace

Result<std::string> RenderTemplate(std::string_view text, const std::string& file,
                                   const YAML::Node& values, const HelmRelease& release,
                                   std::set<std::string>* used) {
  return Renderer(text, file, values, release, used).Run();
}

Result<YAML::Node> WithValue(const YAML::Node& values, const std::string& dotted_path,
                             const std::string& value) {
  YAML::Node copy = YAML::Clone(values);
  YAML::Node target = At(copy, dotted_path);
  if (!target.IsDefined() || !target.IsScalar()) {
    return Result<YAML::Node>::Error(dotted_path + " is not a scalar of values.yaml");
  }
  // Parsed, so that "false" is a plain scalar (a boolean), as with helm --set.
  target = YAML::Load(value);
  return copy;
}

}  // namespace sonde::deploy_test
