// Batch mode of grove-reason (examples/reason/batch.hpp), run in-process.
#include <catch2/catch.hpp>

#if defined(GROVE_HAVE_REASON_APP)

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "batch.hpp"
#include "fake_chat.hpp"
#include "provider_setup.hpp"
#include "reason_app.hpp"

namespace {

std::size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("batch: interrupted half way and resumed, every valid line has one result", "[agents]") {
  // 50 lines: 47 questions (GSM8K-style answers) and 3 malformed lines. The
  // fake provider answers "18" after 3 ms per call, so the run takes long
  // enough to interrupt: a watcher raises SIGINT once 15 results are on disk
  // (the batch runner's signal handler cancels what is in flight). A crash in
  // the middle of a write is simulated by appending half a line. The resumed
  // run must skip the finished ids, drop the partial line and finish the rest:
  // every valid id then has exactly one result line.
  auto dir = std::filesystem::temp_directory_path() / "grove_agents_batch_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string questions = (dir / "questions.jsonl").string();
  const std::string results = (dir / "results.jsonl").string();
  {
    std::ofstream q(questions);
    for (int i = 1; i <= 50; ++i) {
      if (i == 7) {
        q << "{not json\n";
      } else if (i == 23) {
        q << R"({"answer": "#### 3"})"
          << "\n";
      } else if (i == 41) {
        q << R"({"question": 12})"
          << "\n";
      } else {
        // Built with append: g++ 12 -O2 warns falsely (-Wrestrict) on "q" + to_string.
        std::string id = "q";
        id.append(std::to_string(i));
        std::string question = "Ducks lay 16 eggs, 3 eaten, 4 baked, $2 each; item ";
        question.append(std::to_string(i)).append("?");
        nlohmann::json j{{"id", id},
                         {"question", question},
                         {"answer", i % 2 == 0 ? "9 * 2 = 18\n#### 18" : "#### 1,018"}};
        q << j.dump() << "\n";
      }
    }
  }

  auto fake = std::make_shared<grove::agents::testing::fake_chat>();
  fake->answer_delay = std::chrono::milliseconds(3);
  auto made = grove::agents::pipeline::create(fake);
  REQUIRE(made);
  grove::reason::batch_options options{.questions_path = questions,
                                       .out_path = results,
                                       .concurrency = 4,
                                       .resume = false,
                                       .progress = false};

  boost::asio::io_context io(1);
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!finished.load() && std::chrono::steady_clock::now() < give_up) {
      if (count_lines(results) >= 15) {
        std::raise(SIGINT);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::ostringstream out;
  std::ostringstream err;
  auto first = grove::reason::run_batch(io, **made, options, out, err);
  finished = true;
  watcher.join();
  REQUIRE(first);
  CHECK(first->interrupted);
  CHECK(first->malformed == 3);
  CHECK(first->valid == 47);
  CHECK(first->done < 47);
  CHECK(err.str().find("questions.jsonl:7: skipped: not valid JSON") != std::string::npos);
  CHECK(err.str().find("questions.jsonl:23: skipped") != std::string::npos);
  CHECK(err.str().find("questions.jsonl:41: skipped") != std::string::npos);
  const std::size_t after_first = count_lines(results);
  CHECK(after_first == first->done + first->failed);

  // A crash in the middle of writing a line leaves half of it behind.
  std::ofstream(results, std::ios::app) << R"({"id": "q50", "line": 50, "answ)";

  options.resume = true;
  std::ostringstream err2;
  auto second = grove::reason::run_batch(io, **made, options, out, err2);
  REQUIRE(second);
  CHECK_FALSE(second->interrupted);
  CHECK(second->skipped == after_first);
  CHECK(second->done + second->failed + second->skipped == 47);

  std::map<std::string, int> seen;
  std::ifstream in(results);
  std::string line;
  std::size_t graded_correct = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);  // every line is whole JSON
    ++seen[j["id"].get<std::string>()];
    if (j.contains("correct") && j["correct"].get<bool>()) {
      ++graded_correct;
    }
  }
  CHECK(seen.size() == 47);
  for (const auto& [id, n] : seen) {
    INFO(id);
    CHECK(n == 1);
  }
  // Even ids expect 18, odd ids 1018 (with a thousands separator); the fake
  // always answers 18.
  CHECK(graded_correct == 25);
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: resume reruns failed questions and truncates rejected huge ones", "[agents]") {
  // First run: the provider fails every call, so every question gets an error
  // record, and a 20,000-character question is rejected before any call.
  // Resumed with a working provider: the error records are replaced, not
  // kept beside the new results, and the huge question's record stays short.
  auto dir = std::filesystem::temp_directory_path() / "grove_agents_batch_resume_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string questions = (dir / "questions.jsonl").string();
  const std::string results = (dir / "results.jsonl").string();
  {
    std::ofstream q(questions);
    for (int i = 1; i <= 4; ++i) {
      q << nlohmann::json{{"id", "q" + std::to_string(i)}, {"question", "Ducks lay 16 eggs?"}}
               .dump()
        << "\n";
    }
    q << nlohmann::json{{"id", "huge"}, {"question", std::string(20'000, 'x')}}.dump() << "\n";
  }
  auto failing = std::make_shared<grove::agents::testing::fake_chat>();
  failing->fail_with = grove::llm::errc::server_error;
  auto working = std::make_shared<grove::agents::testing::fake_chat>();
  grove::reason::batch_options options{.questions_path = questions, .out_path = results};
  boost::asio::io_context io(1);
  std::ostringstream out;
  std::ostringstream err;

  auto first = grove::reason::run_batch(io, *grove::agents::pipeline::create(failing).value(),
                                        options, out, err);
  REQUIRE(first);
  CHECK(first->failed == 5);
  CHECK(count_lines(results) == 5);

  options.resume = true;
  auto second = grove::reason::run_batch(io, *grove::agents::pipeline::create(working).value(),
                                         options, out, err);
  REQUIRE(second);
  CHECK(second->retried == 5);
  CHECK(second->skipped == 0);
  CHECK(second->done == 4);
  CHECK(second->failed == 1);  // the huge question is still rejected

  std::map<std::string, nlohmann::json> by_id;
  std::ifstream in(results);
  std::string line;
  std::size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    CHECK(line.size() < 2'000);
    auto j = nlohmann::json::parse(line);
    by_id[j["id"].get<std::string>()] = j;
  }
  CHECK(lines == 5);
  REQUIRE(by_id.size() == 5);
  for (int i = 1; i <= 4; ++i) {
    CHECK_FALSE(by_id["q" + std::to_string(i)].contains("error"));
  }
  const auto& huge = by_id["huge"];
  CHECK(huge["question_truncated"] == true);
  CHECK(huge["question_bytes"] == 20'000);
  CHECK(huge["question"].get<std::string>().size() == 200);
  CHECK(huge["error"].get<std::string>().find("20000") != std::string::npos);

  // A third resume has nothing left but the rejected question.
  auto third = grove::reason::run_batch(io, *grove::agents::pipeline::create(working).value(),
                                        options, out, err);
  REQUIRE(third);
  CHECK(third->skipped == 4);
  CHECK(third->retried == 1);
  CHECK(count_lines(results) == 5);
  std::filesystem::remove_all(dir);
}

TEST_CASE("batch: GSM8K answers and predictions are compared as numbers", "[agents]") {
  using grove::reason::expected_number;
  CHECK(expected_number("step <<48/2=24>>\n#### 72").value() == "72");
  CHECK(expected_number("#### 2,125").value() == "2125");
  CHECK(expected_number("#### -5").value() == "-5");
  CHECK_FALSE(expected_number("no final line").has_value());
  CHECK(grove::reason::predicted_number("so 3 + 4 = 7\nAnswer: $1,234.50") == "1234.5");
  CHECK(grove::reason::predicted_number("the total is -12 dollars") == "-12");
  CHECK(grove::reason::predicted_number("ran 5km, digest 0d94ff314429a034") == "5");
  CHECK(grove::reason::predicted_number("the 3rd box holds 12") == "12");
  CHECK(grove::reason::predicted_number("id a1b2") == "");
  CHECK(grove::reason::same_number("1018", "1018.0"));
  CHECK_FALSE(grove::reason::same_number("18", "1018"));
  CHECK_FALSE(grove::reason::same_number("", "0"));
}

TEST_CASE("batch: config files are checked field by field", "[agents]") {
  grove::reason::app_config config;
  auto ok = grove::reason::apply_config_json(
      nlohmann::json::parse(R"({"provider": "offline", "budget": {"max_calls": 7},
                                "search": {"max_evaluations": 4, "strategies": [
                                  {"name": "socratic", "instruction": "Ask yourself why."}]}})"),
      config);
  REQUIRE(ok);
  CHECK(config.pipeline.budget.max_calls == 7);
  CHECK(config.pipeline.search.strategies.size() == 1);
  auto bad = grove::reason::apply_config_json(
      nlohmann::json::parse(R"({"provder": "x", "budget": {"max_calls": "many"},
                                "trm": {"rounds": 2}})"),
      config);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("provder: unknown key") != std::string::npos);
  CHECK(bad.error().message.find("budget.max_calls") != std::string::npos);
  CHECK(bad.error().message.find("trm.rounds: unknown key") != std::string::npos);

  grove::reason::app_config remote;
  remote.provider = "nonsense";
  boost::asio::io_context remote_io;
  CHECK_FALSE(grove::reason::make_provider(remote, remote_io.get_executor()));
  boost::asio::io_context io;
  grove::reason::app_config offline;
  auto provider = grove::reason::make_provider(offline, io.get_executor());
  REQUIRE(provider);
  CHECK(provider->offline);
  CHECK(provider->notice.find("no LLM provider configured") != std::string::npos);

  // Asked for by name: the notice says so instead of "not configured".
  grove::reason::app_config asked;
  asked.provider = "offline";
  auto chosen = grove::reason::make_provider(asked, io.get_executor());
  REQUIRE(chosen);
  CHECK(chosen->offline);
  CHECK(chosen->notice.find("as asked") != std::string::npos);
  CHECK(chosen->notice.find("not configured") == std::string::npos);
  CHECK(chosen->notice.find("no LLM provider") == std::string::npos);

  // A directory is not a cassette.
  grove::reason::app_config replay;
  replay.provider = "replay";
  replay.replay_path = std::filesystem::temp_directory_path().string();
  auto replayed = grove::reason::make_provider(replay, io.get_executor());
  REQUIRE_FALSE(replayed);
  CHECK(replayed.error().message.find("directory") != std::string::npos);
}

TEST_CASE("batch: grove-chat and grove-reason share one provider setup", "[agents]") {
  using grove::examples::provider_flags;
  using grove::examples::resolve_provider;
  using grove::llm::provider_kind;
  std::map<std::string, std::string> environment;
  auto lookup = [&environment](std::string_view name) -> std::optional<std::string> {
    auto it = environment.find(std::string(name));
    return it == environment.end() ? std::nullopt : std::optional<std::string>(it->second);
  };

  // Nothing configured: offline, and the notice says so.
  auto nothing = resolve_provider({}, lookup);
  REQUIRE(nothing);
  CHECK(nothing->config.provider == provider_kind::offline);
  CHECK_FALSE(nothing->offline_requested);
  CHECK(grove::examples::provider_notice(*nothing, "x").find("no LLM provider configured") !=
        std::string::npos);

  // Asked for, by flag or environment: the notice says it was asked for.
  environment["GROVE_LLM_PROVIDER"] = "offline";
  auto asked = resolve_provider({}, lookup);
  REQUIRE(asked);
  CHECK(asked->offline_requested);
  CHECK(grove::examples::provider_notice(*asked, "x").find("as asked") != std::string::npos);
  environment.clear();
  CHECK(resolve_provider({.provider = "offline"}, lookup)->offline_requested);

  // A base URL alone means an OpenAI-compatible server, with OPENAI_API_KEY.
  environment["OPENAI_API_KEY"] = "sk-openai";
  environment["ANTHROPIC_API_KEY"] = "sk-anthropic";
  auto local = resolve_provider({.base_url = "http://127.0.0.1:9/v1", .model = "m"}, lookup);
  REQUIRE(local);
  CHECK(local->config.provider == provider_kind::openai);
  CHECK(local->config.api_key.reveal() == "sk-openai");
  CHECK(local->config.model == "m");
  CHECK(grove::examples::provider_notice(*local, "x") ==
        "x: provider openai at http://127.0.0.1:9/v1, model m");

  // A provider chosen by flag takes its own key variable; an explicit key wins.
  auto claude =
      resolve_provider({.provider = "anthropic", .base_url = "http://127.0.0.1:9"}, lookup);
  REQUIRE(claude);
  CHECK(claude->config.api_key.reveal() == "sk-anthropic");
  auto given = resolve_provider(
      {.provider = "anthropic", .base_url = "http://127.0.0.1:9", .api_key = "sk-given"}, lookup);
  REQUIRE(given);
  CHECK(given->config.api_key.reveal() == "sk-given");

  auto bogus = resolve_provider({.provider = "bogus"}, lookup);
  REQUIRE_FALSE(bogus);
  CHECK(bogus.error().message.find("bogus") != std::string::npos);

  // Prompts are checked before any call.
  CHECK_FALSE(grove::examples::check_prompt(""));
  CHECK_FALSE(grove::examples::check_prompt(" \t\n"));
  CHECK_FALSE(grove::examples::check_prompt("a\xff"));
  CHECK(grove::examples::check_prompt("x <y> z"));
}

TEST_CASE("batch: output files that cannot be written are reported", "[agents]") {
  auto missing = std::filesystem::temp_directory_path() / "grove-no-such-dir" / "x" / "out.dot";
  auto written = grove::reason::write_text_file(missing.string(), "digraph {}");
  REQUIRE_FALSE(written);
  CHECK(written.error().context == missing.string());
  CHECK(written.error().message.find("cannot open") != std::string::npos);
  auto here = std::filesystem::temp_directory_path() / "grove_agents_write_test.dot";
  REQUIRE(grove::reason::write_text_file(here.string(), "digraph {}"));
  std::filesystem::remove(here);
}

#endif
