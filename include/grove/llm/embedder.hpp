// grove/llm/embedder.hpp: text embeddings.
//
// An embedder maps texts to fixed-length float vectors for retrieval. Two
// implementations:
//
// - hashing_embedder (the default): local feature hashing, no network, no
//   model. Each text is lower-cased and split into words (runs of ASCII
//   letters and digits, plus every byte >= 0x80 so UTF-8 words stay whole).
//   Features are the words (weight 1), adjacent word pairs (weight 0.5) and
//   the character trigrams of each word padded with '#' (weight 0.25). Each
//   feature is hashed with XXH3-64 (seeded); the hash picks a dimension
//   ((low 32 bits * dimension) >> 32) and a sign (bit 63), and the weight is
//   added there with that sign, so collisions cancel out on average instead of
//   piling up (Weinberger et al., "Feature Hashing for Large Scale Multitask
//   Learning", 2009, https://arxiv.org/abs/0902.2206). The vector is then
//   L2-normalised, so the dot product of two vectors is their cosine
//   similarity. Texts that share words and word pieces get similar vectors;
//   it knows nothing of synonyms. A text with no word characters maps to the
//   zero vector. Deterministic on every platform.
//
// - An OpenAI-compatible /embeddings client (make_embedder with provider
//   openai): batches the texts, checks every vector's length against the
//   configured dimension, and goes through the same rate limiter, breaker,
//   retry and cache as the chat clients.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grove/llm/config.hpp"
#include "grove/runtime/result.hpp"

namespace grove::llm {

/// One embedding vector.
using embedding = std::vector<float>;

/// Texts in, vectors out.
///
/// Thread safety: async_embed may be called concurrently from any coroutine;
/// the accessors are immutable.
class embedder {
 public:
  virtual ~embedder() = default;

  /// One vector per text, in the order of `texts`, each of dimension()
  /// floats. An empty list gives an empty list without any work.
  /// Errors: errc::bad_request for an empty text (remote APIs reject them);
  /// the classified provider failure (remote); errc::invalid_response when
  /// the service returns the wrong number of vectors or a vector of another
  /// length than dimension().
  virtual boost::asio::awaitable<result<std::vector<embedding>>> async_embed(
      std::vector<std::string> texts) = 0;

  /// Length of every vector.
  virtual std::size_t dimension() const noexcept = 0;
  /// "hashing" or "openai".
  virtual std::string_view provider() const noexcept = 0;
  /// True for an embedder that never touches the network.
  virtual bool offline() const noexcept = 0;
  /// Stops background work (the HTTP client of a remote embedder). Default:
  /// nothing to do.
  virtual boost::asio::awaitable<void> async_close();
};

/// Settings of the feature-hashing embedder.
struct hashing_options {
  /// Vector length. Default 384 (the size of small sentence models, so stores
  /// built with it can later switch models); range 1..65,536.
  std::size_t dimension = 384;
  /// Seed of the feature hash; different seeds give unrelated spaces.
  std::uint64_t seed = 0x67726f7665ULL;
  /// Add adjacent word pairs as features. Default true.
  bool word_pairs = true;
  /// Add character trigrams of each word as features. Default true.
  bool char_trigrams = true;

  /// Every bad field at once (errc::invalid_config).
  result<void> validate() const;
};

/// The local embedder (see the file comment). Stateless after construction.
class hashing_embedder final : public embedder {
 public:
  /// Throws std::invalid_argument when options.validate() fails.
  explicit hashing_embedder(hashing_options options = {});

  /// The vector of one text (the synchronous core of async_embed).
  embedding embed(std::string_view text) const;

  boost::asio::awaitable<result<std::vector<embedding>>> async_embed(
      std::vector<std::string> texts) override;
  std::size_t dimension() const noexcept override { return options_.dimension; }
  std::string_view provider() const noexcept override { return "hashing"; }
  bool offline() const noexcept override { return true; }

 private:
  hashing_options options_;
};

/// Which embedder make_embedder builds and how.
struct embedder_config {
  /// Connection, key, limits, timeouts, retry, breaker, cache, logger and
  /// metrics, as for chat. service.provider offline (the default) selects the
  /// hashing embedder; openai the /embeddings client (POST {base}/embeddings,
  /// base URL rules as for chat); anthropic is refused (it has no embeddings
  /// API).
  llm_config service{};
  /// Remote model. Default "text-embedding-3-small".
  std::string model = "text-embedding-3-small";
  /// Expected vector length; remote vectors of another length are an error.
  /// Default 384 (matching hashing_options); set 1536 for
  /// text-embedding-3-small at full size. Range 1..65,536.
  std::size_t dimension = 384;
  /// Send `dimensions` in the request (OpenAI text-embedding-3 models can
  /// shorten their vectors; many local servers reject the field). Default false.
  bool send_dimensions = false;
  /// Texts per request. Default 128; range 1..2048 (OpenAI's limit).
  std::size_t batch_size = 128;
  /// The hashing embedder's settings (its dimension is taken from `dimension`).
  hashing_options hashing{};

  /// Every bad field at once (errc::invalid_config).
  result<void> validate() const;
};

/// Makes the embedder the configuration asks for. Errors: errc::invalid_config.
result<std::shared_ptr<embedder>> make_embedder(const embedder_config& config,
                                                boost::asio::any_io_executor executor);

}  // namespace grove::llm
