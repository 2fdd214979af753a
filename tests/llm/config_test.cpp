// Tests of grove/llm/config.hpp: validation, the environment, the factory, and
// that the API key never shows in to_string, errors or exceptions.

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include "grove/llm/config.hpp"

namespace llm = grove::llm;

namespace {

constexpr std::string_view key = "sk-test-DO-NOT-PRINT-1234567890abcdef";

llm::environment_lookup env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

}  // namespace

TEST_CASE("config: nothing set means offline", "[llm]") {
  auto config = llm::config_from_environment(env({}));
  REQUIRE(config);
  CHECK(config->provider == llm::provider_kind::offline);
  CHECK(config->requests_per_minute == 60.0);

  // A key alone does not switch to a remote provider.
  auto with_key = llm::config_from_environment(env({{"OPENAI_API_KEY", std::string(key)}}));
  REQUIRE(with_key);
  CHECK(with_key->provider == llm::provider_kind::offline);

  boost::asio::io_context io;
  auto client = llm::make_chat_client(*config, io.get_executor());
  REQUIRE(client);
  CHECK((*client)->offline());
  CHECK((*client)->provider() == "offline");
}

TEST_CASE("config: provider, base URL, model and keys from the environment", "[llm]") {
  SECTION("a base URL alone means an OpenAI-compatible server") {
    auto config = llm::config_from_environment(
        env({{"GROVE_LLM_BASE_URL", "http://127.0.0.1:8080"}, {"GROVE_LLM_MODEL", "qwen"}}));
    REQUIRE(config);
    CHECK(config->provider == llm::provider_kind::openai);
    CHECK(config->base_url == "http://127.0.0.1:8080");
    CHECK(config->effective_model() == "qwen");
    CHECK(config->api_key.empty());
  }
  SECTION("anthropic with its key, rate limits") {
    auto config = llm::config_from_environment(env({{"GROVE_LLM_PROVIDER", " Anthropic "},
                                                    {"ANTHROPIC_API_KEY", std::string(key)},
                                                    {"OPENAI_API_KEY", "sk-other"},
                                                    {"GROVE_LLM_RPM", "120"},
                                                    {"GROVE_LLM_TPM", "40000"}}));
    REQUIRE(config);
    CHECK(config->provider == llm::provider_kind::anthropic);
    CHECK(config->api_key.reveal() == key);
    CHECK(config->effective_base_url() == "https://api.anthropic.com");
    CHECK(config->requests_per_minute == 120.0);
    CHECK(config->tokens_per_minute == 40000.0);
  }
  SECTION("a key file wins") {
    const auto path = std::filesystem::temp_directory_path() / "grove_llm_key_test.txt";
    {
      std::ofstream out(path);
      out << "  sk-from-file  \nsecond line ignored\n";
    }
    auto config = llm::config_from_environment(env({{"GROVE_LLM_PROVIDER", "openai"},
                                                    {"GROVE_LLM_API_KEY_FILE", path.string()},
                                                    {"OPENAI_API_KEY", "sk-env"}}));
    std::filesystem::remove(path);
    REQUIRE(config);
    CHECK(config->api_key.reveal() == "sk-from-file");
  }
  SECTION("errors name the variable") {
    auto unknown = llm::config_from_environment(env({{"GROVE_LLM_PROVIDER", "gemini"}}));
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == llm::errc::invalid_config);
    CHECK(unknown.error().message.find("gemini") != std::string::npos);

    auto no_file = llm::config_from_environment(
        env({{"GROVE_LLM_PROVIDER", "openai"}, {"GROVE_LLM_API_KEY_FILE", "/nonexistent/key"}}));
    REQUIRE_FALSE(no_file);
    CHECK(no_file.error().message.find("GROVE_LLM_API_KEY_FILE") != std::string::npos);

    auto bad_rpm = llm::config_from_environment(env({{"GROVE_LLM_RPM", "fast"}}));
    REQUIRE_FALSE(bad_rpm);
    CHECK(bad_rpm.error().message.find("GROVE_LLM_RPM") != std::string::npos);

    // The providers' own endpoints need a key.
    auto keyless = llm::config_from_environment(env({{"GROVE_LLM_PROVIDER", "openai"}}));
    REQUIRE_FALSE(keyless);
    CHECK(keyless.error().message.find("api_key") != std::string::npos);
  }
}

TEST_CASE("config: validate reports every bad field at once", "[llm]") {
  llm::llm_config config;
  config.provider = llm::provider_kind::openai;
  config.base_url = "ftp://example";
  config.requests_per_minute = 0;
  config.tokens_per_minute = -1;
  config.idle_timeout = std::chrono::milliseconds(0);
  config.default_max_tokens = 0;
  auto result = config.validate();
  REQUIRE_FALSE(result);
  const std::string& text = result.error().message;
  for (const char* field : {"base_url", "requests_per_minute", "tokens_per_minute", "idle_timeout",
                            "default_max_tokens"}) {
    CHECK(text.find(field) != std::string::npos);
  }
  boost::asio::io_context io;
  CHECK_FALSE(llm::make_chat_client(config, io.get_executor()));
}

TEST_CASE("config: the API key never appears in to_string, errors or streams", "[llm]") {
  llm::llm_config config;
  config.provider = llm::provider_kind::openai;
  config.base_url = "http://127.0.0.1:9/v1";
  config.api_key = llm::secret(std::string(key));

  CHECK(config.to_string().find(key) == std::string::npos);
  CHECK(config.to_string().find("[redacted]") != std::string::npos);
  std::ostringstream streamed;
  streamed << config.api_key;
  CHECK(streamed.str() == "[redacted]");

  boost::asio::io_context io;
  auto client = llm::make_chat_client(config, io.get_executor());
  REQUIRE(client);
  CHECK((*client)->to_string().find(key) == std::string::npos);
  CHECK((*client)->to_string().find("127.0.0.1:9") != std::string::npos);

  // A validation error of a config holding the key does not quote it.
  config.requests_per_minute = -1;
  config.api_key = llm::secret(std::string(key) + "\n");
  auto invalid = config.validate();
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error().describe().find(key) == std::string::npos);
}
