// A streaming JSON writer whose output matches Go's encoding/json (MarshalIndent with two
// spaces when pretty): same escaping (<, >, & and U+2028/2029 as \u escapes, invalid UTF-8
// as U+FFFD), "[]" and "{}" for empty containers. Kuberhealthy clients and golden files
// compare bytes, so the format is part of the wire contract.
// Not thread-safe; one writer per document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sonde {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty) : pretty_(pretty) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // REQUIRES: inside an object, before the member's value.
  void Key(std::string_view key);
  void String(std::string_view s);
  void Bool(bool b);
  void Int(int64_t v);
  // Shortest round-trip form; NaN and infinities (not JSON) are written as null.
  void Double(double v);
  void Null();
  void StringArray(const std::vector<std::string>& items);

  // The document. REQUIRES: every container closed.
  const std::string& str() const { return out_; }

 private:
  void Open(char c);
  void Close(char c);
  void BeforeValue();
  void Newline();

  bool pretty_;
  std::string out_;
  std::vector<int> counts_;  // members written per open container
  bool after_key_ = false;
};

// Appends `s` as a quoted JSON string with Go's escaping.
void AppendGoJsonString(std::string& out, std::string_view s);

}  // namespace sonde
