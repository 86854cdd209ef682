// The feature table of each kernel profile (ksm/profile.h).
#include "ksm/profile.h"

namespace ksmsim::ksm {

const ProfileFeatures& FeaturesOf(Profile profile) {
  static const ProfileFeatures k61{};
  static const ProfileFeatures k612{
      .smart_scan = true,
      .fork_resets_mm_counters = true,
      .checksum_before_stable_search = true,
      .ksm_zero_pages = true,
      .collapse_singular_chains = true,
      .break_ksm_unshares = true,
      .sysfs_6_12 = true,
      .mglru = true,
      .pagevec_size = 31,
  };
  return profile == Profile::k612 ? k612 : k61;
}

}  // namespace ksmsim::ksm
