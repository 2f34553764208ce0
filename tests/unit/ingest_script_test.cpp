#include "store/ingest_script.hpp"

#include <gtest/gtest.h>

#include "splitstream/v1/read.pb.h"

namespace splitstream {
namespace {

TEST(IngestScript, ArgumentsCarryKeysDeviceAndEveryReadInOrder) {
  const KeySchema keys("ev1");
  v1::Read a;
  a.set_seq(7);
  a.set_timing_point_id("arch");
  a.set_chip("C1");
  a.set_time_ms(1743894000250);
  a.set_line(v1::LINE_BACKUP);
  a.set_rssi_dbm(-51);
  v1::Read b;
  b.set_seq(8);
  b.set_timing_point_id("arch");
  b.set_chip("C2");
  b.set_time_ms(1743894000300);
  std::vector<std::string> args{"EVALSHA", "sha"};
  append_ingest_script_args(args, keys, "arch-backup", 1743894001000, {a, b}, {9});
  const std::vector<std::string> expected = {"EVALSHA",
                                             "sha",
                                             "3",
                                             "{ev:ev1}:reads",
                                             "{ev:ev1}:dev:arch-backup",
                                             "{ev:ev1}:dev:arch-backup:pending",
                                             "arch-backup",
                                             "1743894001000",
                                             "3",
                                             "a",
                                             "7",
                                             "arch",
                                             "C1",
                                             "1743894000250",
                                             "backup",
                                             "-51",
                                             "a",
                                             "8",
                                             "arch",
                                             "C2",
                                             "1743894000300",
                                             "",
                                             "",
                                             "r",
                                             "9",
                                             "",
                                             "",
                                             "",
                                             "",
                                             ""};
  EXPECT_EQ(args, expected);
}

}  // namespace
}  // namespace splitstream
