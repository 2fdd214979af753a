// Tests of grove/llm/embedder.hpp: the local feature-hashing embedder and the
// embedder factory. The OpenAI-compatible client is tested against the fake
// server in providers_test.cpp.

#include <catch2/catch.hpp>

#include <cmath>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "grove/llm/embedder.hpp"

namespace llm = grove::llm;

namespace {

double dot(const llm::embedding& a, const llm::embedding& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sum += static_cast<double>(a[i]) * b[i];
  }
  return sum;
}

}  // namespace

TEST_CASE("embedder: hashing vectors are deterministic, normalised and sized", "[llm]") {
  const llm::hashing_embedder embedder;
  CHECK(embedder.dimension() == 384);
  CHECK(embedder.offline());
  CHECK(embedder.provider() == "hashing");

  const auto a = embedder.embed("Monte Carlo tree search balances exploration and exploitation.");
  REQUIRE(a.size() == 384);
  CHECK(std::abs(dot(a, a) - 1.0) < 1e-5);
  CHECK(a == embedder.embed("Monte Carlo tree search balances exploration and exploitation."));
  // Case and punctuation do not matter.
  CHECK(a == embedder.embed("MONTE carlo, tree SEARCH balances exploration AND exploitation!"));

  const llm::hashing_embedder small({.dimension = 16});
  CHECK(small.embed("hello world").size() == 16);

  // No word characters: the zero vector.
  const auto empty = embedder.embed("  ...  ");
  CHECK(std::all_of(empty.begin(), empty.end(), [](float x) { return x == 0.0f; }));
}

TEST_CASE("embedder: hashing similarity follows shared words", "[llm]") {
  const llm::hashing_embedder embedder;
  const auto query = embedder.embed("how does the circuit breaker open after failures");
  const auto close = embedder.embed("the circuit breaker opens after repeated failures");
  const auto far = embedder.embed("recipe for sourdough bread with rye flour");
  CHECK(dot(query, close) > 0.4);
  CHECK(std::abs(dot(query, far)) < 0.2);
  CHECK(dot(query, close) > dot(query, far) + 0.3);

  // Another seed is another space.
  const llm::hashing_embedder other({.seed = 7});
  CHECK(other.embed("circuit breaker") != embedder.embed("circuit breaker"));
}

TEST_CASE("embedder: async_embed, validation and the factory", "[llm]") {
  boost::asio::io_context io;
  auto made = llm::make_embedder({.dimension = 64}, io.get_executor());
  REQUIRE(made);
  auto embedder = *made;
  CHECK(embedder->offline());
  CHECK(embedder->dimension() == 64);

  auto future =
      boost::asio::co_spawn(io, embedder->async_embed({"first text", "second text", "first text"}),
                            boost::asio::use_future);
  io.run();
  auto vectors = future.get();
  REQUIRE(vectors);
  REQUIRE(vectors->size() == 3);
  CHECK((*vectors)[0].size() == 64);
  CHECK((*vectors)[0] == (*vectors)[2]);
  CHECK((*vectors)[0] != (*vectors)[1]);

  io.restart();
  auto rejected =
      boost::asio::co_spawn(io, embedder->async_embed({"ok", ""}), boost::asio::use_future);
  io.run();
  auto bad = rejected.get();
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == llm::errc::bad_request);
  CHECK(bad.error().message.find("texts[1]") != std::string::npos);

  llm::embedder_config anthropic;
  anthropic.service.provider = llm::provider_kind::anthropic;
  anthropic.dimension = 0;
  auto refused = llm::make_embedder(anthropic, io.get_executor());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == llm::errc::invalid_config);
  CHECK(refused.error().message.find("anthropic has no embeddings") != std::string::npos);
  CHECK(refused.error().message.find("dimension") != std::string::npos);
  CHECK_THROWS_AS(llm::hashing_embedder({.dimension = 0}), std::invalid_argument);
}
