// `splitstream results` and `check` as a user runs them: the real binary on real files.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/time.hpp"

namespace {

namespace fs = std::filesystem;
const std::string kBin = SPLITSTREAM_BIN_DIR "/splitstream";
const std::string kDemo = SPLITSTREAM_SOURCE_DIR "/events/pyongyang-2025";

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

CliRun run(const std::string& args) {
  const fs::path dir =
      fs::temp_directory_path() / ("splitstream-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string cmd =
      kBin + " " + args + " >" + (dir / "out").string() + " 2>" + (dir / "err").string();
  const int status = std::system(cmd.c_str());
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "out"), slurp(dir / "err")};
  fs::remove_all(dir);
  return r;
}

const boost::json::object& race(const boost::json::value& doc, const std::string& id) {
  for (const auto& r : doc.at("races").as_array()) {
    if (r.at("id").as_string() == id) return r.as_object();
  }
  throw std::runtime_error("no race " + id);
}

TEST(ResultsCli, DemoMarathonWinnersFinishNearTheirRealTimes) {
  const CliRun men =
      run("results --event " + kDemo + " --reads " + kDemo + "/reads.csv --race marathon");
  ASSERT_EQ(men.exit_code, 0) << men.err;
  const auto doc = boost::json::parse(men.out);
  const auto& first = race(doc, "marathon").at("standings").as_array()[0];
  EXPECT_EQ(first.at("bib").as_string(), "1");
  EXPECT_EQ(first.at("name").as_string(), "PAK Kum Dong");
  EXPECT_EQ(first.at("status").as_string(), "finished");
  EXPECT_EQ(first.at("last_split").as_string(), "finish");
  // 2025 result: 2:12:11.
  EXPECT_NEAR(static_cast<double>(first.at("gun_time_ms").as_int64()), 7931000.0, 60000.0);
  EXPECT_EQ(first.at("splits").as_array().size(), 21u) << "a clean run over all 21 splits";

  const CliRun women = run("results --event " + kDemo + " --reads " + kDemo +
                           "/reads.csv --race marathon --category F");
  ASSERT_EQ(women.exit_code, 0) << women.err;
  const auto women_doc = boost::json::parse(women.out);
  const auto& queen = race(women_doc, "marathon").at("standings").as_array()[0];
  EXPECT_EQ(queen.at("name").as_string(), "JON Su Gyong");
  EXPECT_NEAR(static_cast<double>(queen.at("gun_time_ms").as_int64()), 8750000.0,
              60000.0);  // 2:25:50
  EXPECT_EQ(queen.at("rank").as_int64(), 1);
  EXPECT_EQ(queen.at("gap_ms").as_int64(), 0);
}

TEST(ResultsCli, EveryRaceHasStandingsAndUnknownChipsAreListed) {
  const CliRun r = run("results --event " + kDemo + " --reads " + kDemo + "/reads.csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  const auto doc = boost::json::parse(r.out);
  EXPECT_EQ(doc.at("event").as_string(), "pyongyang-2025");
  for (const char* id : {"marathon", "half", "10k", "5k"}) {
    const auto& rows = race(doc, id).at("standings").as_array();
    ASSERT_FALSE(rows.empty()) << id;
    EXPECT_EQ(rows[0].at("rank").as_int64(), 1) << id;
    EXPECT_EQ(rows[0].at("status").as_string(), "finished") << id;
  }
  EXPECT_FALSE(doc.at("unknown_chips").as_array().empty());
  EXPECT_GT(doc.at("reads").at("duplicates").to_number<std::int64_t>(), 0);
}

TEST(ResultsCli, AtTimeGivesStandingsAsOfThen) {
  // 08:40: the leaders are on their first marathon lap (~33 min for 10.5 km), nobody finished.
  const CliRun r = run("results --event " + kDemo + " --reads " + kDemo +
                       "/reads.csv --race marathon --at 2025-04-06T08:40:00+09:00");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = boost::json::parse(r.out);
  const auto& rows = race(doc, "marathon").at("standings").as_array();
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows)
    EXPECT_NE(row.at("status").as_string(), "finished");
  EXPECT_EQ(rows[0].at("status").as_string(), "running");
}

TEST(ResultsCli, MalformedReadsLinesAreReportedWithLineNumbersAndSkipped) {
  const fs::path file = fs::temp_directory_path() / "splitstream-broken-reads.csv";
  {
    std::ofstream out(file);
    out << "timing_point,chip,time,device,line\n"
        << "stadium,E28011606000020000001001,2025-04-06T08:00:01.000+09:00,stadium-main,main\n"  // 2: ok
        << "stadum,E28011606000020000001001,2025-04-06T08:10:00.000+09:00,,\n"                 // 3
        << "arch,E28011606000020000001001,2025-04-06 08:03,,\n"                                // 4
        << "arch,E28011606000020000001001\n"                                                   // 5
        << "arch,E28011606000020000001001,2025-04-06T08:03:00.000+09:00,square-main,\n"        // 6
        << "arch,E28011606000020000001001,2025-04-06T08:03:00.000+09:00,arch-main,sideways\n"  // 7
        << "arch,,2025-04-06T08:03:00.000+09:00,,\n"                                           // 8
        << "arch,E28011606000020000001001,2025-04-06T08:03:00.000+09:00,arch-main,main\n";  // 9: ok
  }
  const CliRun r =
      run("results --event " + kDemo + " --reads " + file.string() + " --race marathon");
  fs::remove(file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* expected :
       {"splitstream-broken-reads.csv:3: timing_point: unknown timing point \"stadum\"",
        "splitstream-broken-reads.csv:4: time: bad time",
        "splitstream-broken-reads.csv:5: expected 5 fields, found 2",
        "splitstream-broken-reads.csv:6: device: device \"square-main\" is at timing point "
        "\"square\"",
        "splitstream-broken-reads.csv:7: line: must be main, backup or empty",
        "splitstream-broken-reads.csv:8: chip: chip is empty", "6 malformed lines skipped"}) {
    EXPECT_NE(r.err.find(expected), std::string::npos) << "missing: " << expected << "\nstderr:\n"
                                                       << r.err;
  }
  // The good lines were applied: bib 1 started and reached the arch.
  const auto doc = boost::json::parse(r.out);
  const auto& first = race(doc, "marathon").at("standings").as_array()[0];
  EXPECT_EQ(first.at("bib").as_string(), "1");
  EXPECT_EQ(first.at("last_split").as_string(), "l1-arch");
}

TEST(ResultsCli, CsvHasOneRowPerRunnerAndAColumnPerSplit) {
  const CliRun r =
      run("results --event " + kDemo + " --reads " + kDemo + "/reads.csv --format csv --race 5k");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string header = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(header,
            "race,rank,bib,name,gender,category,country,status,last_split,gun_time,chip_time,gap,"
            "start,arch,finish,flags");
  std::size_t lines = 0;
  for (char c : r.out)
    lines += c == '\n';
  EXPECT_EQ(lines, 1u + 60u);  // header + the 5K's 60 runners
  EXPECT_NE(r.out.find("\n5k,1,"), std::string::npos);
}

TEST(ResultsCli, UsageErrorsExitTwoAndEventProblemsExitOne) {
  EXPECT_EQ(run("results --event " + kDemo).exit_code, 2);
  EXPECT_EQ(run("results --event " + kDemo + " --reads x --format xml").exit_code, 2);
  EXPECT_EQ(run("frobnicate").exit_code, 2);
  EXPECT_EQ(run("check --event /nonexistent").exit_code, 1);
  const CliRun ok = run("check --event " + kDemo);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("4 races"), std::string::npos);
}

TEST(ResultsCli, CheckReportsEveryProblemWithFileLineAndField) {
  const fs::path dir = fs::temp_directory_path() / "splitstream-bad-event";
  fs::remove_all(dir);
  fs::copy(kDemo, dir, fs::copy_options::recursive);
  std::string event = slurp(dir / "event.json");
  // Break a split's timing point and a wave's gun time.
  const auto pos = event.find("\"timing_point\": \"square\"");
  ASSERT_NE(pos, std::string::npos);
  event.replace(pos, 24, "\"timing_point\": \"sqare\"");
  std::ofstream(dir / "event.json") << event;
  std::ofstream(dir / "participants.csv", std::ios::app)
      << "1,NEWCHIP,Dup,Bib,M,1990,PRK,marathon,,\n";
  const CliRun r = run("check --event " + dir.string());
  fs::remove_all(dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("timing_point: unknown timing point \"sqare\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("participants.csv:402: bib: duplicate bib \"1\" (also at line 2)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("event.json:"), std::string::npos);
}

}  // namespace
