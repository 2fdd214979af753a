// Retrieval and artifacts of grove-reason (examples/reason/reason_storage.hpp)
// end to end: grove-index's indexing code, the embedded store, the
// store_retriever, the pipeline on the offline provider, and the artifact
// stores (a directory and s3rver). Compiled when the example is built.
#if defined(GROVE_HAVE_REASON_APP)
#include "reason_storage.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <mutex>
#include <optional>

#include "batch.hpp"
#include "grove/agents/store_retriever.hpp"
#include "grove/llm/embedder.hpp"
#include "grove/llm/offline.hpp"
#include "grove/storage/error.hpp"
#include "grove/storage/filesystem_object_store.hpp"
#include "grove/storage/hnsw_vector_store.hpp"
#include "grove/storage/indexer.hpp"
#include "grove/storage/s3_object_store.hpp"
#include "s3rver_fixture.hpp"
#include "storage_test_util.hpp"

namespace fs = std::filesystem;
namespace asio = boost::asio;
using grove::agents::request_result;

namespace {

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// What grove-index does: the hashing embedder at the store's dimension (384).
void index_with_grove_index_defaults(const fs::path& docs, const fs::path& store_dir) {
  grove::test::hashed_store hashed(store_dir, 384);
  grove::storage::index_options index;
  index.chunking.max_chars = 300;
  index.chunking.overlap_chars = 50;
  REQUIRE(grove::storage::index_directory(docs, *hashed.store, hashed.embed_function(), index));
}  // the store closes here, releasing its directory lock

// The offline provider, recording every request's messages.
class recording_chat final : public grove::llm::chat_client {
 public:
  asio::awaitable<grove::result<grove::llm::chat_response>> async_chat(
      grove::llm::chat_request request) override {
    {
      std::lock_guard lock(mutex_);
      std::string text;
      for (const auto& m : request.messages) text += m.content + "\n---\n";
      prompts_.push_back(std::move(text));
    }
    co_return offline_.answer(request);
  }
  std::string_view provider() const noexcept override { return offline_.provider(); }
  std::string_view model() const noexcept override { return offline_.model(); }
  bool offline() const noexcept override { return true; }
  std::string to_string() const override { return "recording offline"; }

  std::vector<std::string> prompts() const {
    std::lock_guard lock(mutex_);
    return prompts_;
  }

 private:
  grove::llm::offline_chat_client offline_;
  mutable std::mutex mutex_;
  std::vector<std::string> prompts_;
};

// A store whose every call fails as an unreachable service would.
class broken_store final : public grove::storage::vector_store {
 public:
  std::size_t dimension() const override { return 384; }
  grove::result<void> upsert(std::span<const grove::storage::vector_record>,
                             std::string_view) override {
    return down();
  }
  grove::result<std::vector<grove::storage::vector_match>> query(
      const grove::storage::vector_query&) override {
    return down();
  }
  grove::result<std::vector<grove::storage::vector_record>> fetch(std::span<const std::string>,
                                                                  std::string_view) override {
    return down();
  }
  grove::result<void> remove(std::span<const std::string>, std::string_view) override {
    return down();
  }
  grove::result<std::size_t> remove_matching(const nlohmann::json&, std::string_view) override {
    return down();
  }
  grove::result<grove::storage::vector_store_stats> stats() override { return down(); }
  grove::result<void> flush() override { return down(); }

 private:
  static grove::unexpected down() {
    return grove::fail(grove::storage::errc::unavailable, "the store is down", "broken_store");
  }
};

grove::result<request_result> ask(const std::shared_ptr<grove::llm::chat_client>& client,
                                  grove::agents::pipeline_options options,
                                  const std::string& question,
                                  grove::agents::request_trace* trace = nullptr) {
  auto pipeline = grove::agents::pipeline::create(client, std::move(options));
  REQUIRE(pipeline);
  asio::io_context io;
  std::optional<grove::result<request_result>> out;
  grove::agents::request_options request{.request_id = 1, .sink = {}};
  if (trace != nullptr) request.sink = trace->sink();
  asio::co_spawn(io, (*pipeline)->run(question, std::move(request)),
                 [&](std::exception_ptr e, grove::result<request_result> r) {
                   if (e) std::rethrow_exception(e);
                   out = std::move(r);
                 });
  io.run_for(std::chrono::seconds(60));  // deadline: the offline provider never waits
  REQUIRE(out);
  return std::move(*out);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("grove-reason --store: retrieved chunks reach HRM and TRM, sources are listed",
          "[storage]") {
  grove::test::temp_dir dir;
  write_file(dir.path() / "docs/orchards.md",
             "Apple orchards in the valley are pruned in late winter. Pruning opens the crown "
             "to light.\n\nThe valley orchards harvest apples in October.");
  write_file(dir.path() / "docs/engines/steam.txt",
             "Steam engines convert heat into mechanical work with a piston and a boiler.");
  index_with_grove_index_defaults(dir.path() / "docs", dir.path() / "store");

  auto retriever = grove::reason::open_store_retriever((dir.path() / "store").string());
  REQUIRE(retriever);
  auto client = std::make_shared<recording_chat>();
  grove::agents::pipeline_options options;
  options.retrieve = (*retriever)->as_retriever();
  options.retrieve_top_k = 2;
  options.router_rules.long_query_words = 1;  // HRM and TRM both run on pass 1
  auto result = ask(client, options, "When are apples harvested in the valley orchards?");
  REQUIRE(result);

  // The result lists the sources used: file and byte offsets, best first.
  REQUIRE_FALSE(result->retrieval_failed);
  REQUIRE(result->sources.size() == 2);
  CHECK(result->sources.front().source.starts_with("orchards.md:"));
  const std::string orchards = read_text(dir.path() / "docs/orchards.md");
  for (const auto& s : result->sources) {
    const auto colon = s.source.rfind(':');
    const auto dash = s.source.find('-', colon);
    REQUIRE(dash != std::string::npos);
    const std::size_t begin = std::stoul(s.source.substr(colon + 1, dash - colon - 1));
    const std::size_t end = std::stoul(s.source.substr(dash + 1));
    const std::string file = s.source.substr(0, colon);
    CHECK(read_text(dir.path() / "docs" / file).substr(begin, end - begin) == s.text);
  }
  const auto json = nlohmann::json::parse(grove::agents::to_json(*result));
  CHECK(json["sources"][0]["source"] == result->sources.front().source);

  // The context reached the HRM decomposition and the TRM draft prompts.
  bool hrm_saw = false;
  bool trm_saw = false;
  for (const std::string& prompt : client->prompts()) {
    const bool with_context =
        prompt.find("Context (may help)") != std::string::npos &&
        prompt.find("[" + result->sources.front().source + "]") != std::string::npos &&
        prompt.find("harvest apples in October") != std::string::npos;
    hrm_saw |= with_context && prompt.starts_with("You split problems");
    trm_saw |= with_context && prompt.starts_with("Answer the question.");
  }
  CHECK(hrm_saw);
  CHECK(trm_saw);
  CHECK((*retriever)->stats().requests == 1);
  CHECK((*retriever)->stats().failures == 0);
  CHECK((*retriever)->stats().passages == 2);

  // A missing store is a clear error naming grove-index.
  auto missing = grove::reason::open_store_retriever((dir.path() / "nothing").string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("grove-index") != std::string::npos);
}

TEST_CASE("store_retriever: a failing store degrades to no context and is counted", "[storage]") {
  auto retriever = grove::agents::store_retriever::create(
      std::make_shared<broken_store>(), std::make_shared<grove::llm::hashing_embedder>());
  REQUIRE(retriever);
  auto client = std::make_shared<recording_chat>();
  grove::agents::pipeline_options options;
  options.retrieve = (*retriever)->as_retriever();
  auto result = ask(client, options, "What is two plus two?");
  REQUIRE(result);  // answered anyway
  CHECK(result->retrieval_failed);
  CHECK(result->sources.empty());
  CHECK_FALSE(result->answer.empty());
  CHECK((*retriever)->stats().failures == 1);
  for (const std::string& prompt : client->prompts()) {
    CHECK(prompt.find("Context (may help)") == std::string::npos);
  }

  // An embedder of another dimension than the store is refused up front.
  grove::llm::hashing_options small;
  small.dimension = 16;
  auto mismatch = grove::agents::store_retriever::create(
      std::make_shared<broken_store>(), std::make_shared<grove::llm::hashing_embedder>(small));
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error().message.find("dimension 16") != std::string::npos);
}

TEST_CASE("grove-reason --artifacts DIR: result, trace and tree per question, batch too",
          "[storage]") {
  grove::test::temp_dir dir;
  const fs::path root = dir.path() / "artifacts";
  auto writer = grove::reason::artifact_writer::open(root.string());
  REQUIRE(writer);
  auto client = std::make_shared<recording_chat>();

  // Batch mode: two questions, each stored under its id.
  write_file(dir.path() / "questions.jsonl",
             "{\"id\": \"q/1\", \"question\": \"What is 2 + 3?\"}\n"
             "{\"id\": \"q2\", \"question\": \"What is 4 + 4?\"}\n");
  auto pipeline = grove::agents::pipeline::create(client, {});
  REQUIRE(pipeline);
  grove::reason::batch_options batch{.questions_path = (dir.path() / "questions.jsonl").string(),
                                     .out_path = (dir.path() / "out.jsonl").string(),
                                     .concurrency = 2};
  std::vector<std::string> saved;
  batch.on_finished = [&](const std::string& id, const request_result& r,
                          const grove::agents::request_trace& trace) {
    REQUIRE((*writer)->save(id, r, trace));
    saved.push_back(id);
  };
  asio::io_context io;
  std::ostringstream out;
  std::ostringstream err;
  auto summary = grove::reason::run_batch(io, **pipeline, batch, out, err);
  REQUIRE(summary);
  CHECK(summary->done == 2);
  CHECK(saved.size() == 2);

  grove::storage::filesystem_object_store_options fs_options;
  fs_options.root = root;
  auto store = grove::storage::filesystem_object_store::open(fs_options);
  REQUIRE(store);
  grove::storage::list_options list;
  list.prefix = (*writer)->run_prefix();
  auto page = (*store)->list(list);
  REQUIRE(page);
  std::vector<std::string> keys;
  for (const auto& o : page->objects) keys.push_back(o.key);
  std::sort(keys.begin(), keys.end());
  const std::string run = (*writer)->run_prefix();
  CHECK(keys == std::vector<std::string>{run + "q2/result.json", run + "q2/trace.json",
                                         run + "q2/tree.dot", run + "q_1/result.json",
                                         run + "q_1/trace.json", run + "q_1/tree.dot"});
  auto result_json = (*store)->get(run + "q2/result.json");
  REQUIRE(result_json);
  CHECK(nlohmann::json::parse(result_json->data)["question"] == "What is 4 + 4?");
  CHECK(result_json->info.metadata.content_type == "application/json");
  auto trace_json = (*store)->get(run + "q2/trace.json");
  REQUIRE(trace_json);
  const auto trace = nlohmann::json::parse(trace_json->data);
  CHECK(!trace["events"].empty());
  CHECK(!trace["trace"].empty());
  auto tree = (*store)->get(run + "q2/tree.dot");
  REQUIRE(tree);
  CHECK(tree->data.starts_with("digraph"));

  CHECK_FALSE(grove::reason::artifact_writer::open(""));
}

TEST_CASE("grove-reason --artifacts s3://bucket/prefix: against s3rver", "[storage]") {
  grove::test::s3rver_process s3rver;
  grove::reason::s3_settings s3;
  s3.endpoint = s3rver.endpoint();
  s3.access_key_id = grove::test::s3rver_process::access_key;
  s3.secret_access_key = grove::test::s3rver_process::secret_key;
  s3.path_style = true;
  auto writer = grove::reason::artifact_writer::open(
      std::string("s3://") + grove::test::s3rver_process::bucket + "/runs", s3);
  REQUIRE(writer);
  CHECK((*writer)->run_prefix().starts_with("runs/"));

  auto client = std::make_shared<recording_chat>();
  grove::agents::request_trace trace;
  auto result = ask(client, {}, "What is 6 times 7?", &trace);
  REQUIRE(result);
  REQUIRE((*writer)->save("1", *result, trace));

  grove::storage::s3_object_store_options options;
  options.endpoint = s3rver.endpoint();
  options.bucket = grove::test::s3rver_process::bucket;
  options.addressing = grove::storage::s3_addressing::path_style;
  options.credentials = {s3.access_key_id, s3.secret_access_key, ""};
  auto store = grove::storage::s3_object_store::open(options);
  REQUIRE(store);
  auto stored = (*store)->get((*writer)->run_prefix() + "1/result.json");
  REQUIRE(stored);
  CHECK(nlohmann::json::parse(stored->data)["answer"] == result->answer);
  auto trace_json = (*store)->get((*writer)->run_prefix() + "1/trace.json");
  REQUIRE(trace_json);
  CHECK(!nlohmann::json::parse(trace_json->data)["events"].empty());
  CHECK((*store)->head((*writer)->run_prefix() + "1/tree.dot"));

  // Without credentials (none in flags or environment) the store refuses.
  grove::reason::s3_settings none;
  none.endpoint = s3rver.endpoint();
  if (std::getenv("AWS_ACCESS_KEY_ID") == nullptr) {
    CHECK_FALSE(grove::reason::artifact_writer::open("s3://grove-test/runs", none));
  }
}

#endif  // GROVE_HAVE_REASON_APP
