#include "grove/agents/query.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "grove/agents/consensus.hpp"
#include "grove/agents/errc.hpp"
#include "grove/agents/router.hpp"

using grove::agents::agent_output;
using grove::agents::errc;

TEST_CASE("query: ordinary text is accepted, bad queries rejected with reasons", "[agents]") {
  CHECK(grove::agents::validate_query("button onclick=").value() == 15);
  CHECK(grove::agents::validate_query("x <y> z"));
  CHECK(grove::agents::validate_query("Janet\u2019s ducks lay 16 eggs; $2 each?"));
  CHECK(grove::agents::validate_query("SELECT * FROM t; -- <script>alert(1)</script>"));

  auto empty = grove::agents::validate_query("");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == errc::invalid_query);
  CHECK(empty.error().message.find("empty") != std::string::npos);

  auto blank = grove::agents::validate_query(" \t\r\n ");
  REQUIRE_FALSE(blank);
  CHECK(blank.error().message.find("whitespace") != std::string::npos);

  auto nul = grove::agents::validate_query(std::string("ab\0c", 4));
  REQUIRE_FALSE(nul);
  CHECK(nul.error().context == "byte offset 2");

  SECTION("length is counted in code points, limit inclusive") {
    std::string at_limit(10'000, 'a');
    CHECK(grove::agents::validate_query(at_limit));
    auto over = grove::agents::validate_query(at_limit + "b");
    REQUIRE_FALSE(over);
    CHECK(over.error().message.find("10001 characters") != std::string::npos);
    CHECK(over.error().message.find("at most 10000") != std::string::npos);
    std::string accents;
    for (int i = 0; i < 10'000; ++i) {
      accents += "\xc3\xa9";  // 20,000 bytes, 10,000 characters
    }
    CHECK(grove::agents::validate_query(accents).value() == 10'000);
    CHECK_FALSE(grove::agents::validate_query("abcdef", {.max_chars = 5}));
    CHECK(grove::agents::query_limits{.max_chars = 0}.validate().size() == 1);
  }

  SECTION("invalid UTF-8 names the offset") {
    struct bad_case {
      std::string text;
      std::string offset;
    };
    for (const auto& c : {bad_case{"ok \xff", "byte offset 3"}, bad_case{"\xc3", "byte offset 0"},
                          bad_case{"a\xc3(", "byte offset 2"},
                          bad_case{"\xc0\xaf", "byte offset 0"},             // overlong '/'
                          bad_case{"\xed\xa0\x80", "byte offset 0"},         // surrogate
                          bad_case{"\xf4\x90\x80\x80", "byte offset 0"}}) {  // > U+10FFFF
      auto r = grove::agents::validate_query(c.text);
      REQUIRE_FALSE(r);
      CHECK(r.error().message.find("invalid UTF-8") != std::string::npos);
      CHECK(r.error().context == c.offset);
    }
    CHECK(grove::agents::utf8_length("\xf0\x9f\x8c\xb3 grove").value() == 7);
  }
}

TEST_CASE("consensus: mean of successful agents, inclusive threshold, failures excluded",
          "[agents]") {
  std::vector<agent_output> outputs{
      {.agent = "hrm", .ok = true, .answer = "18", .confidence = 0.7},
      {.agent = "trm", .ok = true, .answer = "18", .confidence = 0.8},
  };
  auto c = grove::agents::measure_consensus(outputs).value();
  CHECK(c.mean_confidence == Approx(0.75));
  CHECK(c.reached);  // 0.75 counts
  CHECK(c.succeeded == 2);

  outputs[0].confidence = 0.69;
  CHECK_FALSE(grove::agents::measure_consensus(outputs).value().reached);

  SECTION("a failed agent is excluded, not averaged as 0") {
    outputs.push_back({.agent = "search",
                       .ok = false,
                       .confidence = 0.0,
                       .error = {make_error_code(errc::deadline_exceeded), "too slow", ""}});
    outputs[0].confidence = 0.9;
    auto with_failure = grove::agents::measure_consensus(outputs).value();
    CHECK(with_failure.mean_confidence == Approx(0.85));
    CHECK(with_failure.failed == 1);
    auto ranked = grove::agents::ranked_outputs(outputs);
    REQUIRE(ranked.size() == 2);
    CHECK(ranked[0]->agent == "hrm");
  }

  SECTION("all failed: an error with every cause") {
    std::vector<agent_output> failed{
        {.agent = "hrm", .ok = false, .error = {make_error_code(errc::llm_failed), "429", ""}},
        {.agent = "trm", .ok = false, .error = {make_error_code(errc::cancelled), "gone", ""}}};
    auto r = grove::agents::measure_consensus(failed);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::all_agents_failed);
    CHECK(r.error().message.find("hrm: 429") != std::string::npos);
    CHECK(r.error().message.find("trm: gone") != std::string::npos);
    CHECK_FALSE(grove::agents::measure_consensus({}));
  }

  CHECK(grove::agents::consensus_options{.threshold = 1.5, .max_passes = 0}.validate().size() == 2);
}

TEST_CASE("router: rules over query features and request state", "[agents]") {
  using grove::agents::question_kind;
  auto gsm = grove::agents::extract_features(
      "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and "
      "bakes muffins for her friends every day with four. She sells the remainder at the "
      "farmers' market daily for $2 per fresh duck egg. How much in dollars does she make "
      "every day at the farmers' market?");
  CHECK(gsm.numbers == 2);
  CHECK(gsm.kind == question_kind::arithmetic);
  CHECK(grove::agents::extract_features("It costs 2,125 dollars or 3.5 more").numbers == 2);
  CHECK(grove::agents::extract_features("Who wrote Hamlet?").kind == question_kind::factual);
  CHECK(grove::agents::extract_features("Compare Rust and C++").kind == question_kind::comparison);

  grove::agents::rule_router router;
  grove::agents::routing_input input{.features = gsm};
  auto first = router.decide(input);
  CHECK(first.hrm);
  CHECK(first.trm);
  CHECK_FALSE(first.search);

  auto simple = router.decide({.features = grove::agents::extract_features("Who wrote Hamlet?")});
  CHECK_FALSE(simple.hrm);
  CHECK(simple.trm);

  input.pass = 2;
  auto second = router.decide(input);
  CHECK(second.search);
  CHECK_FALSE(second.hrm);
  input.pass = 3;
  input.search_ran = true;
  auto third = router.decide(input);
  CHECK(third.refine);
  CHECK_FALSE(third.search);
  CHECK(third.reason.find("refine") != std::string::npos);
}
