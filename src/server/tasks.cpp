#include <stdexcept>

#include <flamecpp/tasks.hpp>

#include "server/worker.hpp"

namespace flamecpp {

void spawn(Task<void> task) {
    detail::Worker* worker = detail::Worker::current();
    if (worker == nullptr) {
        throw std::logic_error(
            "flamecpp::spawn() must be called on a server thread (from a handler, a component "
            "factory or a task the server runs)");
    }
    worker->spawn(std::move(task));
}

}  // namespace flamecpp
