// Device presence across nodes, against one real Redis and two `splitstream serve` nodes: a
// device connected to node B shows on node A with B's name and its counts; when it leaves, both
// show it offline within the key's TTL, then nothing once the key expired. And the presence
// script's rule that keeps two nodes from flapping a device's state.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <numeric>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "store/key_schema.hpp"
#include "store/presence_script.hpp"
#include "support/demo_race.hpp"
#include "support/device_client.hpp"
#include "support/redis_server.hpp"
#include "support/serve_node.hpp"
#include "support/wait_until.hpp"

namespace splitstream::testing {
using test_support::RedisServer;
namespace {

using namespace std::chrono_literals;

const std::string kDevice = "arch-main";

// The entry of device `id` in the node's GET /api/v1/devices; an empty object when the node
// does not answer or lists no such device.
boost::json::object device_entry(int http_port, const std::string& id) {
  const HttpResult r = http_get(http_port, "/api/v1/devices");
  if (r.status != 200) return {};
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(r.body, ec);
  if (ec || !body.is_object()) return {};
  for (const boost::json::value& d : body.at("devices").as_array()) {
    if (d.at("id").as_string() == id) return d.as_object();
  }
  return {};
}

const boost::json::value& presence_of(const boost::json::object& entry) {
  static const boost::json::value none;
  const boost::json::value* p = entry.if_contains("presence");
  return p ? *p : none;
}

std::string text(const boost::json::value& presence, std::string_view key) {
  if (!presence.is_object()) return "";
  const boost::json::value* v = presence.as_object().if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

std::int64_t number(const boost::json::value& presence, std::string_view key) {
  if (!presence.is_object()) return -1;
  const boost::json::value* v = presence.as_object().if_contains(key);
  return v && v->is_int64() ? v->as_int64() : -1;
}

class DevicePresenceAcrossNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = redis_.dir() / "device-tokens";
    DemoRace::get().write_tokens(tokens_);
  }
  RedisServer redis_;
  std::filesystem::path tokens_;
};

TEST_F(DevicePresenceAcrossNodes, ADeviceOnNodeBShowsOnNodeAThenOfflineOnBothThenNothing) {
  ServeNode a = start_serve_node(redis_.port(), tokens_, {"--node-name", "node-a"});
  ServeNode b = start_serve_node(redis_.port(), tokens_, {"--node-name", "node-b"});
  boost::json::object entry = device_entry(a.http, kDevice);
  ASSERT_FALSE(entry.empty());
  EXPECT_TRUE(presence_of(entry).is_null()) << boost::json::serialize(entry);  // nobody holds it

  const DemoRace& race = DemoRace::get();
  const TimeMs before = wall_clock_now();
  {
    DeviceClient client(b.devices);
    ASSERT_TRUE(client.connected());
    v1::DeviceMessage hello;
    hello.mutable_hello()->set_device_id(kDevice);
    hello.mutable_hello()->set_token("tok-" + kDevice);
    hello.mutable_hello()->set_time_ms(wall_clock_now() - 5000);  // its clock 5 s behind
    ASSERT_TRUE(client.send(hello));
    ASSERT_TRUE(client.receive_reply()->has_welcome());
    ASSERT_TRUE(client.send(race.batch(kDevice, 0, 100)));
    ASSERT_EQ(client.receive_reply()->ack().acked_seq(), 100u);
    // One read at another mat (rejected) and one without a chip (malformed).
    v1::DeviceMessage refused = race.batch(kDevice, 100, 102);
    refused.mutable_batch()->mutable_reads(0)->set_timing_point_id("stadium");
    refused.mutable_batch()->mutable_reads(1)->clear_chip();
    ASSERT_TRUE(client.send(refused));
    ASSERT_EQ(client.receive_reply()->ack().rejected_size(), 2);
    const TimeMs stored = wall_clock_now();

    // Node A shows what node B holds, once B's next round has written it.
    ASSERT_TRUE(wait_until([&] {
      entry = device_entry(a.http, kDevice);
      const boost::json::value& p = presence_of(entry);
      return text(p, "node") == "node-b" && number(p, "reads_total") == 100 &&
             number(p, "malformed") == 1;
    })) << boost::json::serialize(entry);
    const boost::json::value& p = presence_of(entry);
    EXPECT_EQ(text(p, "state"), "connected");
    EXPECT_GE(number(p, "since_ms"), before);
    EXPECT_LE(number(p, "since_ms"), stored);
    EXPECT_GE(number(p, "last_read_ms"), number(p, "since_ms"));
    EXPECT_LE(number(p, "last_read_ms"), stored);
    EXPECT_GE(number(p, "silent_ms"), 0);
    const boost::json::array& per_minute = p.at("reads_per_minute").as_array();
    ASSERT_EQ(per_minute.size(), 30u);
    std::int64_t in_window = 0;
    for (const boost::json::value& n : per_minute)
      in_window += n.as_int64();
    EXPECT_EQ(in_window, 100);
    // All in this minute, or the one before if a minute began since.
    EXPECT_TRUE(per_minute[29].as_int64() == 100 || per_minute[28].as_int64() == 100)
        << boost::json::serialize(p);
    EXPECT_LE(number(p, "clock_offset_ms"), -5000);
    EXPECT_GT(number(p, "clock_offset_ms"), -6000);
    EXPECT_TRUE(p.at("clock_warning").as_bool());  // beyond the 2 s default
    EXPECT_EQ(number(p, "gaps"), 0);
    EXPECT_TRUE(p.at("backlog").is_null());
    EXPECT_EQ(number(p, "rejected"), 1);
    EXPECT_EQ(text(p, "remote"), "127.0.0.1");
    // The existing fields are still there: connected to B, not A; Redis's counters.
    EXPECT_FALSE(entry.at("connected_here").as_bool());
    EXPECT_EQ(entry.at("reads").as_int64(), 100);
    EXPECT_EQ(entry.at("acked").as_int64(), 102);
    RecordProperty("device_entry_on_node_a", boost::json::serialize(entry));

    const boost::json::object on_b = device_entry(b.http, kDevice);
    EXPECT_TRUE(on_b.at("connected_here").as_bool());
    EXPECT_EQ(text(presence_of(on_b), "node"), "node-b");
    EXPECT_EQ(number(presence_of(on_b), "reads_total"), 100);
    // Another device is held by nobody.
    EXPECT_TRUE(presence_of(device_entry(a.http, "arch-backup")).is_null());
  }

  // The device left: within the key's TTL both nodes show it offline, as B wrote it last.
  for (const ServeNode* node : {&a, &b}) {
    EXPECT_TRUE(wait_until(
        [&] {
          entry = device_entry(node->http, kDevice);
          return text(presence_of(entry), "state") == "offline";
        },
        10s))
        << boost::json::serialize(entry);
    const boost::json::value& p = presence_of(entry);
    EXPECT_EQ(text(p, "node"), "node-b");
    EXPECT_TRUE(p.at("silent_ms").is_null());
    EXPECT_EQ(number(p, "reads_total"), 100);
    EXPECT_FALSE(entry.at("connected_here").as_bool());
  }
  // B writes an offline device once: then the key expires and no node holds it.
  EXPECT_TRUE(wait_until(
      [&] {
        entry = device_entry(a.http, kDevice);
        return !entry.empty() && presence_of(entry).is_null();
      },
      15s))
      << boost::json::serialize(entry);
  EXPECT_TRUE(presence_of(device_entry(b.http, kDevice)).is_null());
}

// The script that writes presence keys, straight on Redis: a node's entry that is not
// "connected" never replaces another node's "connected" one; anything else is replaced.
TEST_F(DevicePresenceAcrossNodes, AnEntryNotConnectedNeverHidesAnotherNodesConnectedOne) {
  const KeySchema keys("ev1");
  const std::string key = keys.presence("rr-finish");
  const auto write = [&](const std::string& node, const std::string& state) {
    std::vector<std::string> command = {"EVAL", std::string(presence_script())};
    const std::string value = R"({"node":")" + node + R"(","state":")" + state + R"("})";
    append_presence_script_args(command, {{key, value, state == "connected"}}, node, 10'000);
    return redis_.command(command).as_integer();
  };
  const auto held = [&] { return redis_.command({"GET", key}).as_string(); };
  EXPECT_EQ(write("node-a", "dialing"), 1);  // no key yet
  EXPECT_EQ(write("node-b", "connected"), 1);
  EXPECT_EQ(held(), R"({"node":"node-b","state":"connected"})");
  EXPECT_EQ(write("node-a", "dialing"), 0);  // B holds it
  EXPECT_EQ(held(), R"({"node":"node-b","state":"connected"})");
  EXPECT_EQ(write("node-b", "offline"), 1);  // B's own entry: B says it left
  EXPECT_EQ(write("node-a", "dialing"), 1);
  EXPECT_EQ(write("node-a", "connected"), 1);
  EXPECT_EQ(write("node-b", "connected"), 1);  // connected on both: the latest says
  EXPECT_EQ(held(), R"({"node":"node-b","state":"connected"})");
  const std::int64_t ttl = redis_.command({"PTTL", key}).as_integer();
  EXPECT_GT(ttl, 9'000);
  EXPECT_LE(ttl, 10'000);
}

}  // namespace
}  // namespace splitstream::testing
