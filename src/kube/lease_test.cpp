#include "kube/lease.hpp"

#include <gtest/gtest.h>

#include "kube/kube_test_support.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using testing::ExpectGolden;
using testing::Obj;

const TimePoint kT0 = FromUnixSeconds(1704164645) + std::chrono::microseconds(123456);

LeaseOptions Opts() {
  LeaseOptions o;
  o.ns = "kuberhealthy";
  return o;
}

LeaseRecord Held(std::string holder, int64_t transitions = 3) {
  return LeaseRecord{.holder = std::move(holder),
                     .lease_duration_seconds = 15,
                     .acquire_time = kT0 - seconds(600),
                     .renew_time = kT0 - seconds(1),
                     .lease_transitions = transitions,
                     .resource_version = "500"};
}

struct Case {
  std::string name;
  std::optional<LeaseRecord> record;
  Duration since_observed;  // now - when this replica saw the record change
  LeaseAction want;
  std::string want_holder;  // of the object written, or the holder waited for
  int64_t want_transitions = 0;
  bool keeps_acquire_time = false;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class DecideLeaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(DecideLeaseTest, ActsAsClientGo) {
  const Case& c = GetParam();
  const TimePoint now = kT0;
  const LeaseObservation seen{c.record, now - c.since_observed};
  const LeaseDecision d = DecideLease(seen, "sonde-b", now, Opts());
  EXPECT_EQ(d.action, c.want);
  if (c.want == LeaseAction::kWait) {
    EXPECT_EQ(d.holder, c.want_holder);
    EXPECT_EQ(d.expires_at, seen.at + seconds(c.record->lease_duration_seconds));
    EXPECT_TRUE(d.object.empty());
    return;
  }
  const auto written = ReadLease(d.object);
  ASSERT_TRUE(written.ok()) << written.error();
  const LeaseRecord& w = written.value();
  EXPECT_EQ(w.holder, c.want_holder);
  EXPECT_EQ(w.lease_transitions, c.want_transitions);
  EXPECT_EQ(w.lease_duration_seconds, 15);
  EXPECT_EQ(w.renew_time, std::chrono::floor<std::chrono::microseconds>(now));
  EXPECT_EQ(w.acquire_time,
            c.keeps_acquire_time
                ? c.record->acquire_time
                : std::optional<TimePoint>(std::chrono::floor<std::chrono::microseconds>(now)));
  // Writes over an existing Lease carry the resourceVersion read: optimistic concurrency.
  EXPECT_EQ(w.resource_version, c.record ? c.record->resource_version : "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DecideLeaseTest,
    ::testing::Values(
        Case{"NoLeaseCreates", std::nullopt, {}, LeaseAction::kCreate, "sonde-b", 0},
        Case{"OtherHolderLive", Held("sonde-a"), seconds(14), LeaseAction::kWait, "sonde-a"},
        Case{"OtherHolderJustRenewed", Held("sonde-a"), seconds(0), LeaseAction::kWait, "sonde-a"},
        Case{"OtherHolderExpired", Held("sonde-a"), seconds(15), LeaseAction::kTakeOver, "sonde-b",
             4},
        Case{"ReleasedIsTakenAtOnce", Held(""), seconds(0), LeaseAction::kTakeOver, "sonde-b", 4},
        Case{"MineRenews", Held("sonde-b"), seconds(5), LeaseAction::kRenew, "sonde-b", 3, true},
        Case{"MineAfterRestartLongExpired", Held("sonde-b"), seconds(3600), LeaseAction::kRenew,
             "sonde-b", 3, true}),
    [](const auto& param_info) { return param_info.param.name; });

// Expiry is judged by this replica's observation time, not the holder's renewTime: a holder
// whose clock runs an hour behind still holds the lease while it keeps renewing.
TEST(DecideLease, ClockSkewedHolderKeepsTheLease) {
  LeaseRecord r = Held("sonde-a");
  r.renew_time = kT0 - std::chrono::hours(1);
  const LeaseDecision d = DecideLease({r, kT0 - seconds(2)}, "sonde-b", kT0, Opts());
  EXPECT_EQ(d.action, LeaseAction::kWait);
}

// The holder's leaseDurationSeconds counts, not this replica's option.
TEST(DecideLease, HolderDurationCounts) {
  LeaseRecord r = Held("sonde-a");
  r.lease_duration_seconds = 60;
  EXPECT_EQ(DecideLease({r, kT0 - seconds(30)}, "sonde-b", kT0, Opts()).action, LeaseAction::kWait);
  EXPECT_EQ(DecideLease({r, kT0 - seconds(60)}, "sonde-b", kT0, Opts()).action,
            LeaseAction::kTakeOver);
}

TEST(Observe, TimeMovesOnlyWhenTheRecordChanges) {
  const LeaseObservation first = Observe({}, Held("sonde-a"), kT0);
  EXPECT_EQ(first.at, kT0);
  LeaseRecord same = Held("sonde-a");
  same.resource_version = "501";  // a write that changed nothing we compare
  const LeaseObservation again = Observe(first, same, kT0 + seconds(5));
  EXPECT_EQ(again.at, kT0);
  EXPECT_EQ(again.record->resource_version, "501");
  LeaseRecord renewed = Held("sonde-a");
  renewed.renew_time = kT0 + seconds(6);
  EXPECT_EQ(Observe(again, renewed, kT0 + seconds(7)).at, kT0 + seconds(7));
}

// Another replica renewing keeps this one waiting; when it stops, the lease is taken over one
// lease duration after the last change this replica saw.
TEST(DecideLease, TakesOverOneDurationAfterTheLastRenewSeen) {
  LeaseObservation seen;
  LeaseRecord r = Held("sonde-a");
  TimePoint now = kT0;
  for (int i = 0; i < 5; ++i, now += seconds(2)) {  // sonde-a renews every 2 s
    r.renew_time = now;
    seen = Observe(seen, r, now);
    EXPECT_EQ(DecideLease(seen, "sonde-b", now, Opts()).action, LeaseAction::kWait);
  }
  const TimePoint last_change = seen.at;
  for (; now < last_change + seconds(15); now += seconds(2)) {  // sonde-a has stopped
    seen = Observe(seen, r, now);
    EXPECT_EQ(DecideLease(seen, "sonde-b", now, Opts()).action, LeaseAction::kWait);
  }
  seen = Observe(seen, r, now);
  EXPECT_EQ(DecideLease(seen, "sonde-b", now, Opts()).action, LeaseAction::kTakeOver);
}

TEST(Lease, ObjectsGolden) {
  ExpectGolden("lease.create.golden.json", DecideLease({}, "sonde-b", kT0, Opts()).object);
  ExpectGolden("lease.release.golden.json", ReleaseLease(Held("sonde-b"), kT0, Opts()));
}

TEST(ReadLease, Fields) {
  const auto r = ReadLease(
      Obj(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l",)"
          R"("namespace":"kh","resourceVersion":"77"},"spec":{"holderIdentity":"sonde-a",)"
          R"("leaseDurationSeconds":15,"acquireTime":"2024-01-02T03:04:05.000000Z",)"
          R"("renewTime":"2024-01-02T03:04:15.500000Z","leaseTransitions":2}})"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value(),
            (LeaseRecord{"sonde-a", 15, FromUnixSeconds(1704164645),
                         FromUnixSeconds(1704164655) + std::chrono::milliseconds(500), 2, "77"}));
  const auto empty = ReadLease(Obj(R"({"metadata":{"name":"l","resourceVersion":"1"}})"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.value().holder, "");
  EXPECT_EQ(ReadLease(Obj(R"({"metadata":{"name":"l","namespace":"kh"},)"
                          R"("spec":{"renewTime":"now"}})"))
                .error(),
            "leases/kh/l: spec.renewTime: invalid time \"now\": expected RFC 3339, e.g. "
            "2026-01-02T15:04:05Z");
}

TEST(StillLeader, WithinTheRenewDeadline) {
  EXPECT_TRUE(StillLeader(kT0, kT0 + seconds(9), Opts()));
  EXPECT_FALSE(StillLeader(kT0, kT0 + seconds(10), Opts()));
}

struct OptionsCase {
  std::string name;
  Duration lease, renew, retry;
  std::string want;
};

void PrintTo(const OptionsCase& c, std::ostream* os) { *os << c.name; }

class ValidateLeaseOptionsTest : public ::testing::TestWithParam<OptionsCase> {};

TEST_P(ValidateLeaseOptionsTest, AsClientGo) {
  const OptionsCase& c = GetParam();
  LeaseOptions o = Opts();
  o.lease_duration = c.lease;
  o.renew_deadline = c.renew;
  o.retry_period = c.retry;
  EXPECT_EQ(ValidateLeaseOptions(o), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ValidateLeaseOptionsTest,
    ::testing::Values(
        OptionsCase{"Defaults", seconds(15), seconds(10), seconds(2), ""},
        OptionsCase{"RenewNotBelowLease", seconds(10), seconds(10), seconds(2),
                    "the lease duration (10s) must be greater than the renew deadline (10s)"},
        OptionsCase{"RetryJitterTooClose", seconds(15), seconds(12), seconds(10),
                    "the renew deadline (12s) must be greater than 1.2 times the retry period "
                    "(10s)"},
        OptionsCase{"ZeroRetry", seconds(15), seconds(10), seconds(0),
                    "the retry period must be greater than zero"}),
    [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace sonde::kube
