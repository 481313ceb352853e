#include "runner/run_log.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sonde {
namespace {

TEST(TailBufferTest, KeepsEverythingWithinLimit) {
  TailBuffer t(10);
  t.Append("abc");
  t.Append("def");
  EXPECT_EQ(t.Str(), "abcdef");
  EXPECT_FALSE(t.Truncated());
}

TEST(TailBufferTest, KeepsLastBytes) {
  TailBuffer t(5);
  for (char c = 'a'; c <= 'z'; ++c) t.Append(std::string(1, c));
  EXPECT_EQ(t.Str(), "vwxyz");
  EXPECT_TRUE(t.Truncated());
  t.Append("0123456789");
  EXPECT_EQ(t.Str(), "56789");
}

TEST(TailBufferTest, ExactlyLimitIsNotTruncated) {
  TailBuffer t(4);
  t.Append("abcd");
  EXPECT_FALSE(t.Truncated());
  t.Append("e");
  EXPECT_TRUE(t.Truncated());
  EXPECT_EQ(t.Str(), "bcde");
}

TEST(TailBufferTest, WholeLinesDropsTheCutLine) {
  TailBuffer t(8);
  t.Append("line1\nline2\nl3\n");
  EXPECT_EQ(t.Str(), "ine2\nl3\n");
  EXPECT_EQ(t.Str(true), "l3\n");
  TailBuffer exact(5);
  exact.Append("aaaa\nbbbb\n");
  EXPECT_EQ(exact.Str(true), "bbbb\n");  // cut right after '\n': nothing else dropped
}

TEST(TailBufferTest, ZeroLimitKeepsNothing) {
  TailBuffer t(0);
  t.Append("x");
  EXPECT_EQ(t.Str(), "");
  EXPECT_TRUE(t.Truncated());
}

TEST(RunLogTest, PrefixesLinesPerStreamWithoutInterleaving) {
  RunLog log("u", TimePoint{}, 1024);
  const size_t a = log.AddStream("a");
  const size_t b = log.AddStream("b");
  log.Append(a, "hel");
  log.Append(b, "one\ntw");
  log.Append(a, "lo\n");
  log.Close(b);
  log.Close(a);
  const RunLogs s = log.Snapshot();
  EXPECT_EQ(s.output, "[b] one\n[a] hello\n[b] tw\n");
  EXPECT_EQ(s.run_uuid, "u");
  EXPECT_FALSE(s.truncated);
}

TEST(RunLogTest, VeryLongLineIsSplit) {
  RunLog log("u", TimePoint{}, 100000);
  const size_t a = log.AddStream("a");
  log.Append(a, std::string(5000, 'x'));
  const std::string out = log.Snapshot().output;
  EXPECT_EQ(out, "[a] " + std::string(4096, 'x') + "\n");
  log.Close(a);
  EXPECT_EQ(log.Snapshot().output.size(), out.size() + 4 + 904 + 1);
}

TEST(LogHistoryTest, KeepsLastRunsPerCheckOldestFirst) {
  LogHistory h(2, 100);
  const CheckKey k{"ns", "c"};
  for (const char* id : {"1", "2", "3"}) h.Begin(k, id, TimePoint{});
  auto other = h.Begin(CheckKey{"ns", "d"}, "x", TimePoint{});
  other->Append(other->AddStream("c"), "hi\n");
  const auto logs = h.Get(k);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].run_uuid, "2");
  EXPECT_EQ(logs[1].run_uuid, "3");
  EXPECT_EQ(h.Get(CheckKey{"ns", "d"}).at(0).output, "[c] hi\n");
  EXPECT_TRUE(h.Get(CheckKey{"ns", "none"}).empty());
}

}  // namespace
}  // namespace sonde
