// Test-only: what handlers on server threads saw, recorded under keys that tests wait on.
// Every wait is bounded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flamecpp::test {

class Journal {
public:
    void add(const std::string& key, std::string value) {
        {
            std::lock_guard lock(mutex_);
            entries_.emplace_back(key, std::move(value));
        }
        changed_.notify_all();
    }

    // The first value recorded under `key`, waiting at most `timeout` for it.
    std::optional<std::string> wait(const std::string& key,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        std::vector<std::string> values = wait_for(key, 1, timeout);
        if (values.empty()) {
            return std::nullopt;
        }
        return values.front();
    }

    // The values recorded under `key` once there are at least `count`, or those there are
    // after `timeout`.
    std::vector<std::string> wait_for(const std::string& key,
                                      std::size_t count,
                                      std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [&] { return count_locked(key) >= count; });
        return all_locked(key);
    }

    // Every value recorded under `key`, in order.
    std::vector<std::string> all(const std::string& key) {
        std::lock_guard lock(mutex_);
        return all_locked(key);
    }

    void clear() {
        std::lock_guard lock(mutex_);
        entries_.clear();
    }

private:
    std::size_t count_locked(const std::string& key) const {
        std::size_t n = 0;
        for (const auto& entry : entries_) {
            n += entry.first == key ? 1 : 0;
        }
        return n;
    }

    std::vector<std::string> all_locked(const std::string& key) const {
        std::vector<std::string> out;
        for (const auto& [k, v] : entries_) {
            if (k == key) {
                out.push_back(v);
            }
        }
        return out;
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace flamecpp::test
