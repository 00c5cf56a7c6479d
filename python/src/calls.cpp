#include "calls.hpp"

namespace tether::py {
namespace pyb = pybind11;

void deliver_result(const py_ref& deliver, std::exception_ptr e, pyb::object value) {
  try {
    pyb::object exc = e ? exception_object(e) : pyb::none();
    deliver.get()(exc, value);
  } catch (pyb::error_already_set& err) {
    err.discard_as_unraisable("tether: delivering a result to asyncio");
  }
}

void bind_pending(pyb::module_& m) {
  pyb::class_<pending>(m, "Pending").def("cancel", &pending::cancel);
}

}  // namespace tether::py
