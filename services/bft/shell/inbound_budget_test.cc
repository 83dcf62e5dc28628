#include "services/bft/shell/inbound_budget.h"

#include <gtest/gtest.h>

#include "prometheus/registry.h"

namespace metronome::bft {
namespace {

double Dropped(prometheus::Registry& registry, const std::string& peer, const std::string& reason) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "metronome_bft_inbound_dropped_total") continue;
    for (const auto& metric : family.metric) {
      bool peer_ok = false, reason_ok = false;
      for (const auto& label : metric.label) {
        peer_ok |= label.name == "peer" && label.value == peer;
        reason_ok |= label.name == "reason" && label.value == reason;
      }
      if (peer_ok && reason_ok) return metric.counter.value;
    }
  }
  return -1;
}

// Found on main: the inbound bound counted messages only (4,096 x 4 MiB per peer).
TEST(InboundBudgetTest, OnePeersLargeMessagesAreBoundedInBytesAndOthersAreUnaffected) {
  prometheus::Registry registry;
  InboundBudget budget(4, /*messages_max=*/4096, /*bytes_max=*/10 << 20, &registry);
  EXPECT_EQ(Dropped(registry, "2", "bytes"), 0);  // Series exist before the first drop.
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += budget.Admit(2, 4 << 20) ? 1 : 0;
  EXPECT_EQ(admitted, 2);
  EXPECT_LE(budget.waiting_bytes(2), size_t{10} << 20);
  EXPECT_EQ(Dropped(registry, "2", "bytes"), 98);
  EXPECT_TRUE(budget.Admit(1, 4 << 20));  // Another peer has its own budget.
  budget.Release(2, 4 << 20);
  EXPECT_TRUE(budget.Admit(2, 4 << 20));  // Room again once handled.
}

TEST(InboundBudgetTest, MessageCountIsBoundedToo) {
  prometheus::Registry registry;
  InboundBudget budget(2, /*messages_max=*/3, /*bytes_max=*/1 << 20, &registry);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(budget.Admit(0, 10));
  EXPECT_FALSE(budget.Admit(0, 10));
  EXPECT_EQ(Dropped(registry, "0", "messages"), 1);
  budget.Release(0, 10);
  EXPECT_TRUE(budget.Admit(0, 10));
  EXPECT_EQ(budget.waiting_bytes(0), 30u);
}

}  // namespace
}  // namespace metronome::bft
