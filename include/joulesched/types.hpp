/// @file types.hpp
/// @brief The small value types every policy speaks: device parameters and load, the request as a router
/// sees it, and the assignment a router returns.
///
/// Units are in the names: `_tok` tokens, `_s` seconds, `_j` joules, `_w` watts, `_tok_s` tokens per second.
#pragma once

#include <cstdint>
#include <limits>

namespace joulesched {

/// Index of a device in a fleet, 0..size()-1. Ties between equal costs break towards the lower id.
using device_id = std::uint32_t;

/// Index of a site (data centre / grid zone). Devices of different sites never share a class.
using site_id = std::uint32_t;

class energy_profile;  // profiles/energy_profile.hpp

/// @brief Service tier. Interactive requests (chat, RAG) carry tight deadlines; bulk requests (batch jobs,
/// embeddings) tolerate latency and should go to the most energy-efficient devices.
enum class tier : std::uint8_t { interactive = 0, bulk = 1 };

inline constexpr std::size_t tier_count = 2;

[[nodiscard]] constexpr const char* to_string(tier t) noexcept {
  return t == tier::interactive ? "interactive" : "bulk";
}

/// @brief What a router knows of a device that does not change per decision.
///
/// Two devices with equal parameters form a class: the class-indexed router keeps one heap per class.
struct device_params {
  double rate_tok_s = 0.0;        ///< mu_n: tokens per second the device serves at its usual batch size (> 0)
  double energy_j_per_tok = 0.0;  ///< eps_n: joules per token at its usual batch size (>= 0)
  site_id site = 0;               ///< where the device is (for carbon-aware cost terms)
  const energy_profile* profile = nullptr;  ///< optional batch- and length-dependent profile; not owned

  friend bool operator==(const device_params&, const device_params&) = default;
};

/// @brief The load a router has reserved on a device and not yet released.
struct device_load {
  std::uint64_t queued_tok = 0;  ///< q_n: tokens of work reserved on the device
  std::uint32_t requests = 0;    ///< requests reserved on the device (its batch, as far as the router knows)
};

/// @brief A request as a router sees it at decision time: estimates, not truth.
struct request_view {
  std::uint32_t work_tok = 0;   ///< t_r: estimated tokens of work (usually estimated output tokens)
  std::uint32_t input_tok = 0;  ///< prompt tokens
  double budget_s = 0.0;        ///< D_r: deadline minus now, seconds; negative when already late (legal)
  joulesched::tier tier = tier::interactive;
};

/// @brief A router's decision: the device, and the work reserved on it. Pass it back to release().
struct assignment {
  device_id device = std::numeric_limits<device_id>::max();
  std::uint32_t work_tok = 0;

  friend bool operator==(const assignment&, const assignment&) = default;
};

}  // namespace joulesched
