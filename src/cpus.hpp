#pragma once

#include <algorithm>
#include <thread>

#include <sched.h>

namespace flamecpp::detail {

/// The CPUs this process may run on: its affinity mask (taskset, cpusets), which
/// std::thread::hardware_concurrency ignores. Two event loops pinned to one CPU take turns
/// in scheduler slices of several milliseconds, which shows as a latency tail.
inline unsigned usable_cpus() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace flamecpp::detail
