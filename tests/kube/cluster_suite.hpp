// Test support: a GoogleTest fixture whose tests share one TestCluster per suite and process
// (starting a control plane takes seconds). Register such a binary with sonde_kube_test() so each
// suite runs as one ctest entry, not one process per test. Usage:
//   class KubeRbac : public ClusterSuite<KubeRbac> {
//    public:
//     static ClusterOptions Options() { return {.authorization = Authorization::kRbac}; }
//   };
//   TEST_F(KubeRbac, ...) { cluster().AdminRequest(...); }
// Failure: when the cluster cannot start, every test of the suite fails with the reason.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "kube/test_cluster.hpp"

namespace sonde::kube {

template <class Derived>
class ClusterSuite : public ::testing::Test {
 public:
  static ClusterOptions Options() { return DefaultClusterOptions(); }

 protected:
  static void SetUpTestSuite() {
    auto started = TestCluster::Start(Derived::Options());
    if (started.ok()) {
      shared().cluster = std::move(started).value();
    } else {
      shared().error = started.error();
    }
  }
  static void TearDownTestSuite() { shared().cluster.reset(); }
  void SetUp() override {
    if (shared().cluster == nullptr) {
      GTEST_FAIL() << "the Kubernetes test cluster did not start: " << shared().error;
    }
  }
  static TestCluster& cluster() { return *shared().cluster; }

 private:
  struct Shared {
    std::unique_ptr<TestCluster> cluster;
    std::string error;
  };
  // One per Derived. (A static data member here makes g++ 12 crash.)
  static Shared& shared() {
    static Shared s;
    return s;
  }
};

}  // namespace sonde::kube
