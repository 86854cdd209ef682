// Result documents: the exact JSON shape of WORKLOAD-FORMAT.md, reading back, bad input.
#include "workloads/result.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace ksmsim::workloads {
namespace {

using Json = nlohmann::ordered_json;

ResultDocument Sample() {
  ResultDocument d;
  d.workload = "two processes, identical pages";
  d.engine = "ksmsim 0.1.0 (kernel profile 6.1)";
  d.seed = 18446744073709551615u;
  ResultEntry e;
  e.step = 10;
  e.op = Op::kExpect;
  e.time_ns = 612000000;
  e.ksm = {{"pages_shared", 7}, {"full_scans", 3}, {"pages_sharing", 1992}};
  e.procs = {{"b", {{"ksm_merging_pages", 1000}}}, {"a", {{"ksm_rmap_items", 1000}}}};
  e.vmstat = {{"cow_ksm", 0}, {"pswpin", -2}};
  e.mismatches = {{"ksm.pages_shared", 8, 7}, {"procs.a.ksm_rmap_items", 999, 1000}};
  d.results.push_back(e);
  ResultEntry s;
  s.step = 11;
  s.op = Op::kSnapshot;
  s.label = "after";
  s.time_ns = 700000000;
  s.machine = Json::parse(R"({"frames_used": 12, "hosts": {"z": 1, "a": [1, 2]}})");
  d.results.push_back(s);
  ResultEntry k;
  k.step = 12;
  k.op = Op::kKsm;
  k.error = "EBUSY";
  d.results.push_back(k);
  d.errors = {"steps[3]: verify failed"};
  return d;
}

TEST(ResultTest, ShapeAndKeyOrderFollowTheFormat) {
  ResultDocument d;
  d.workload = "w";
  d.engine = "e";
  ResultEntry e;
  e.step = 10;
  e.op = Op::kExpect;
  e.time_ns = 5;
  e.ksm = {{"pages_sharing", 2}, {"full_scans", 3}};
  e.procs = {{"a", {{"ksm_rmap_items", 1}, {"ksm_merging_pages", 0}}}};
  e.vmstat = {{"cow_ksm", 0}};
  e.mismatches = {{"ksm.pages_sharing", 1, 2}};
  d.results.push_back(e);
  EXPECT_EQ(ToJson(d).dump(),
            R"({"ksmsim":1,"workload":"w","engine":"e","seed":0,"results":[)"
            R"({"step":10,"op":"expect","label":"","time_ns":5,)"
            R"("ksm":{"full_scans":3,"pages_sharing":2},)"
            R"("procs":{"a":{"ksm_merging_pages":0,"ksm_rmap_items":1}},)"
            R"("vmstat":{"cow_ksm":0},)"
            R"("mismatches":[{"counter":"ksm.pages_sharing","expected":1,"actual":2}]}],)"
            R"("errors":[]})");
}

TEST(ResultTest, MachineAndErrorAppearOnlyWhenSet) {
  Json j = ToJson(Sample());
  EXPECT_FALSE(j["results"][0].contains("machine"));
  EXPECT_FALSE(j["results"][0].contains("error"));
  EXPECT_EQ(j["results"][1]["machine"].dump(), R"({"frames_used":12,"hosts":{"z":1,"a":[1,2]}})");
  EXPECT_EQ(j["results"][2]["error"], "EBUSY");
}

TEST(ResultTest, RoundTrip) {
  ResultDocument d = Sample();
  EXPECT_EQ(ResultFromJson(ToJson(d)), d);
  // Through text, and through the unordered json type.
  EXPECT_EQ(ResultFromJson(Json::parse(ToJson(d).dump(2))), d);
  ResultDocument via_plain = ResultFromJson(nlohmann::json::parse(ToJson(d).dump()));
  EXPECT_EQ(via_plain.results[0], d.results[0]);
  EXPECT_EQ(via_plain.results[1].machine["frames_used"], 12);
}

TEST(ResultTest, ReadResultFile) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("ksmsim_result_test_" + std::to_string(getpid()) + ".json"))
                         .string();
  {
    std::ofstream out(path);
    out << ToJson(Sample()).dump(2);
  }
  EXPECT_EQ(ReadResultFile(path), Sample());
  {
    std::ofstream out(path);
    out << "{\"ksmsim\": 1,\n \"results\": [}";
  }
  try {
    ReadResultFile(path);
    ADD_FAILURE() << "a syntax error was accepted";
  } catch (const ResultFormatError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":2:14: JSON syntax error", 0), 0u) << e.what();
  }
  std::remove(path.c_str());
  EXPECT_THROW(ReadResultFile(path), ResultFormatError);
}

// Applies `edit` to a valid document and expects ResultFromJson to fail with `message`.
void ExpectRejected(const std::function<void(Json&)>& edit, const std::string& message) {
  Json j = ToJson(Sample());
  edit(j);
  try {
    ResultFromJson(j);
    ADD_FAILURE() << "accepted: " << message;
  } catch (const ResultFormatError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ResultTest, BadInputIsRejectedWithItsPath) {
  ExpectRejected([](Json& j) { j["ksmsim"] = 2; },
                 "ksmsim: unsupported result format version 2: expected 1");
  ExpectRejected([](Json& j) { j.erase("engine"); }, "missing required field \"engine\"");
  ExpectRejected([](Json& j) { j["extra"] = 1; }, "extra: unknown field \"extra\"");
  ExpectRejected([](Json& j) { j["seed"] = -1; }, "seed: expected a non-negative integer, got -1");
  ExpectRejected([](Json& j) { j["results"] = 3; }, "results: expected an array, got 3");
  ExpectRejected([](Json& j) { j["results"][0]["op"] = "jump"; },
                 "results[0].op: unknown op \"jump\"");
  ExpectRejected([](Json& j) { j["results"][0]["ksm"]["pages_shared"] = "8"; },
                 "results[0].ksm.pages_shared: expected a 64-bit signed integer, got \"8\"");
  ExpectRejected([](Json& j) { j["results"][0]["procs"]["a"] = 1; },
                 "results[0].procs.a: expected an object, got 1");
  ExpectRejected([](Json& j) { j["results"][0]["mismatches"][1].erase("actual"); },
                 "results[0].mismatches[1]: missing required field \"actual\"");
  ExpectRejected([](Json& j) { j["results"][1].erase("time_ns"); },
                 "results[1]: missing required field \"time_ns\"");
  ExpectRejected([](Json& j) { j["errors"][0] = 5; }, "errors[0]: expected a string, got 5");
}

}  // namespace
}  // namespace ksmsim::workloads

namespace ksmsim::workloads {
namespace {
// The simulator and the oracle add `outcomes` (each ksm/offline/online step's errno) and the
// oracle `notes`; both are read back and written out again unchanged.
TEST(ResultTest, OutcomesAndNotesExtensionsRoundTrip) {
  ResultDocument d;
  d.workload = "w";
  d.engine = "e";
  d.outcomes = nlohmann::ordered_json::parse(R"([{"step": 3, "op": "ksm", "error": "EBUSY"}])");
  d.notes = nlohmann::ordered_json::parse(R"(["step 5: wait ms is not comparable"])");
  nlohmann::ordered_json j = ToJson(d);
  EXPECT_EQ(j["outcomes"][0]["error"], "EBUSY");
  EXPECT_EQ(ResultFromJson(j), d);
  j["outcomes"] = 7;
  EXPECT_THROW(ResultFromJson(j), ResultFormatError);
}
}  // namespace
}  // namespace ksmsim::workloads
