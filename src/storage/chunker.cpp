#include "grove/storage/chunker.hpp"

#include "grove/storage/error.hpp"

namespace grove::storage {
namespace {

struct segment {
  std::size_t begin;
  std::size_t end;
  bool paragraph_start = false;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Trims whitespace off both ends of [begin, end).
segment trimmed(std::string_view text, std::size_t begin, std::size_t end) {
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return {begin, end};
}

// Moves `pos` back so it does not split a UTF-8 sequence.
std::size_t utf8_boundary(std::string_view text, std::size_t pos, std::size_t floor) {
  while (pos > floor + 1 && pos < text.size() &&
         (static_cast<unsigned char>(text[pos]) & 0xc0) == 0x80) {
    --pos;
  }
  return pos;
}

// Cuts an over-long span at whitespace before `max`, or hard (step 2).
void split_long(std::string_view text, segment s, std::size_t max, std::vector<segment>& out) {
  std::size_t start = s.begin;
  while (s.end - start > max) {
    const std::size_t limit = start + max;
    std::size_t cut = 0;
    for (std::size_t i = limit; i > start + 1; --i) {
      if (is_space(text[i - 1])) {
        cut = i;
        break;
      }
    }
    if (cut == 0) cut = utf8_boundary(text, limit, start);
    segment piece = trimmed(text, start, cut);
    if (piece.end > piece.begin) out.push_back(piece);
    start = cut;
  }
  segment rest = trimmed(text, start, s.end);
  if (rest.end > rest.begin) out.push_back(rest);
}

// Step 2: the sentences of one paragraph, each at most `max` bytes.
void split_sentences(std::string_view text, segment paragraph, std::size_t max,
                     std::vector<segment>& out) {
  const std::size_t first_new = out.size();
  std::size_t start = paragraph.begin;
  for (std::size_t i = paragraph.begin; i < paragraph.end; ++i) {
    const bool sentence_end = (text[i] == '.' || text[i] == '!' || text[i] == '?') &&
                              (i + 1 == paragraph.end || is_space(text[i + 1]));
    if (!sentence_end && i + 1 != paragraph.end) continue;
    segment sentence = trimmed(text, start, i + 1);
    if (sentence.end > sentence.begin) {
      if (sentence.end - sentence.begin > max) {
        split_long(text, sentence, max, out);
      } else {
        out.push_back(sentence);
      }
    }
    start = i + 1;
  }
  if (out.size() > first_new) out[first_new].paragraph_start = true;
}

}  // namespace

result<void> chunk_options::validate() const {
  std::string problems;
  if (max_chars < 16 || max_chars > 1'000'000) {
    problems += "max_chars must be 16-1000000, got " + std::to_string(max_chars);
  }
  if (overlap_chars > max_chars / 2) {
    if (!problems.empty()) problems += "; ";
    problems += "overlap_chars must be at most max_chars / 2, got " + std::to_string(overlap_chars);
  }
  if (!problems.empty()) {
    return fail(errc::invalid_argument, "invalid chunk_options: " + problems, "chunk_options");
  }
  return {};
}

result<std::vector<text_chunk>> chunk_text(std::string_view text, const chunk_options& options) {
  if (auto ok = options.validate(); !ok) return fail(ok.error());

  // 1-2. Segments: the sentences of each paragraph.
  std::vector<segment> segments;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t blank = text.find("\n\n", start);
    std::size_t end = blank == std::string_view::npos ? text.size() : blank;
    segment paragraph = trimmed(text, start, end);
    if (paragraph.end > paragraph.begin) {
      split_sentences(text, paragraph, options.max_chars, segments);
    }
    start = end == text.size() ? end : end + 2;
  }

  // 3-4. Greedy packing with segment-aligned overlap.
  std::vector<text_chunk> chunks;
  std::size_t first = 0;
  while (first < segments.size()) {
    std::size_t last = first + 1;
    while (last < segments.size() &&
           segments[last].end - segments[first].begin <= options.max_chars) {
      // Prefer ending at a paragraph break once the chunk is half full and the
      // next paragraph does not fit whole.
      if (segments[last].paragraph_start &&
          segments[last - 1].end - segments[first].begin >= options.max_chars / 2) {
        std::size_t paragraph_end = last + 1;
        while (paragraph_end < segments.size() && !segments[paragraph_end].paragraph_start) {
          ++paragraph_end;
        }
        if (segments[paragraph_end - 1].end - segments[first].begin > options.max_chars) break;
      }
      ++last;
    }
    text_chunk chunk;
    chunk.begin = segments[first].begin;
    chunk.end = segments[last - 1].end;
    chunk.text = std::string(text.substr(chunk.begin, chunk.end - chunk.begin));
    chunks.push_back(std::move(chunk));
    if (last == segments.size()) break;

    std::size_t next = last;
    while (next - 1 > first &&
           segments[last - 1].end - segments[next - 1].begin <= options.overlap_chars) {
      --next;
    }
    first = next;
  }
  return chunks;
}

}  // namespace grove::storage
