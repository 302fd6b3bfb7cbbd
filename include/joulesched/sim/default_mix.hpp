/// @file default_mix.hpp
/// @brief The default workload mix, 64% chat, 28% RAG and 8% batch, with every constant's source or assumption
/// in `mix_defaults` (data/WORKLOADS.md lists them too).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "joulesched/error.hpp"
#include "joulesched/sim/trace.hpp"
#include "joulesched/sim/workload_mix.hpp"

namespace joulesched::sim {

/// @brief Constants of `default_mix`, each with its source or the assumption behind it.
namespace mix_defaults {
/// Class shares 64% chat, 28% RAG, 8% batch: the workload mix of the JouleSched evaluation
/// as published by its authors (not measured by us).
inline constexpr double chat_share = 0.64;
inline constexpr double rag_share = 0.28;
inline constexpr double batch_share = 0.08;

/// Interactive SLOs: MLPerf Inference rules (mlcommons/inference_policies, inference_rules.adoc), latency
/// constraints of Llama3.1-8B, "conversational" category: TTFT 2000 ms, TPOT 100 ms (Llama2-70B's are
/// 2000 ms / 200 ms). MLPerf applies them at the 99th percentile; here every interactive request gets
/// them as its own deadlines. The TPOT is also every interactive request's pacing target (tbt_slo_s: the
/// mean time between its tokens after the first). Assumption: RAG gets the same targets as chat (a user
/// waits on both).
inline constexpr double interactive_ttft_slo_s = 2.0;
inline constexpr double interactive_tpot_slo_s = 0.1;

/// RAG retrieved context added to the chat prompt: uniform in [1024, 2048] tokens. Assumption, based on
/// the LlamaIndex defaults DEFAULT_CHUNK_SIZE = 1024 tokens and DEFAULT_SIMILARITY_TOP_K = 2
/// (llama_index constants.py): two retrieved chunks of at most 1024 tokens, the last chunk of a document
/// being shorter; Vertex AI RAG Engine also defaults to 1024-token chunks. Prompts of this size are
/// common in production: ServeGen's m-large input p90 is 592-7,314 tokens across its 6-hour windows.
inline constexpr std::uint32_t rag_context_tok_min = 1024;
inline constexpr std::uint32_t rag_context_tok_max = 2048;

/// Batch (bulk tier) deadlines: one hour for both TTFT and end to end, no per-token term. Assumption: the
/// batch APIs of OpenAI and Anthropic promise completion within 24 hours; one hour keeps batch deadlines
/// binding within an hour-long simulation while staying far looser than any interactive target.
inline constexpr double batch_slo_s = 3600.0;

/// Batch pacing target: none (0). Those batch APIs promise a completion time, not a token rate: nobody reads
/// a batch job's tokens as they stream.
inline constexpr double batch_tbt_slo_s = 0.0;

/// Batch lengths: summarisation of long documents. Assumption (no public trace labels batch jobs):
/// input piecewise-linear with quantiles p0 1024, p50 3072, p90 6144, p100 8192 tokens (documents that fit
/// the 8,192-token context of Llama-3-8B-class models with room for the summary); output p0 128, p50 256,
/// p100 512 tokens (a summary of up to about a page). The input range agrees in magnitude with ServeGen's
/// production m-large input p99 (2,406-13,989 tokens across its 6-hour windows).
inline constexpr quantile_point batch_input_quantiles[] = {{0.0, 1024}, {0.5, 3072}, {0.9, 6144}, {1.0, 8192}};
inline constexpr quantile_point batch_output_quantiles[] = {{0.0, 128}, {0.5, 256}, {1.0, 512}};

/// Where the bundled chat trace lives, relative to the source tree (first 10,000 rows of the Azure LLM
/// inference trace 2023, conversation service; see data/README.md).
inline constexpr std::string_view chat_trace_relpath = "data/traces/azure_conv_2023_excerpt.csv";
}  // namespace mix_defaults

/// @brief The default mix: chat (interactive, Azure pairs), rag (interactive, Azure pairs + retrieved
/// context), batch (bulk, long-input summarisation), with the constants in `mix_defaults`.
/// @param chat_pairs the empirical pairs for chat and RAG; must be non-empty.
/// @throws config_error if chat_pairs is null or empty.
[[nodiscard]] workload_mix default_mix(const std::shared_ptr<const std::vector<token_pair>>& chat_pairs);
/// @brief default_mix with the pairs of a trace (usually the bundled Azure excerpt).
[[nodiscard]] workload_mix default_mix(const trace& chat_trace);
/// @brief default_mix reading an Azure CSV, e.g. `source_dir / mix_defaults::chat_trace_relpath`.
[[nodiscard]] workload_mix default_mix(const std::filesystem::path& azure_csv);

// Implementation
inline workload_mix default_mix(const std::shared_ptr<const std::vector<token_pair>>& chat_pairs) {
  namespace d = mix_defaults;
  if (!chat_pairs || chat_pairs->empty()) {
    joulesched::detail::fail("default_mix", "chat_pairs", chat_pairs ? "empty" : "null",
                             "need the empirical (input, output) pairs of a chat trace");
  }
  workload_mix mix;
  class_spec chat;
  chat.name = "chat";
  chat.share = d::chat_share;
  chat.tier = tier::interactive;
  chat.lengths.pairs = chat_pairs;
  chat.ttft_slo_s = d::interactive_ttft_slo_s;
  chat.e2e_slo_s_base = d::interactive_ttft_slo_s;
  chat.e2e_slo_s_per_out_tok = d::interactive_tpot_slo_s;
  chat.tbt_slo_s = d::interactive_tpot_slo_s;

  class_spec rag = chat;
  rag.name = "rag";
  rag.share = d::rag_share;
  rag.lengths.input_add_tok_min = d::rag_context_tok_min;
  rag.lengths.input_add_tok_max = d::rag_context_tok_max;

  class_spec batch;
  batch.name = "batch";
  batch.share = d::batch_share;
  batch.tier = tier::bulk;
  batch.lengths.input_quantiles.assign(std::begin(d::batch_input_quantiles), std::end(d::batch_input_quantiles));
  batch.lengths.output_quantiles.assign(std::begin(d::batch_output_quantiles), std::end(d::batch_output_quantiles));
  batch.ttft_slo_s = d::batch_slo_s;
  batch.e2e_slo_s_base = d::batch_slo_s;
  batch.e2e_slo_s_per_out_tok = 0.0;
  batch.tbt_slo_s = d::batch_tbt_slo_s;

  mix.classes = {std::move(chat), std::move(rag), std::move(batch)};
  validate(mix, "default_mix");
  return mix;
}

inline workload_mix default_mix(const trace& chat_trace) {
  return default_mix(std::make_shared<const std::vector<token_pair>>(token_pairs(chat_trace)));
}

inline workload_mix default_mix(const std::filesystem::path& azure_csv) {
  return default_mix(read_azure_trace(azure_csv));
}

}  // namespace joulesched::sim
