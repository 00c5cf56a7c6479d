// libtether's errors as the Python exceptions of tether/errors.py.
#pragma once

#include <exception>

#include <pybind11/pybind11.h>

namespace tether::py {

// Registers the translator: tether::error -> tether.Error subclass chosen
// by tether.errors._from_native from the error's code name.
void register_error_translator();

// The Python exception object for a failure caught in C++ (a tether.Error
// subclass for libtether's errors, tether.Internal for anything else), for
// results delivered to asyncio rather than raised. Needs the GIL.
pybind11::object exception_object(std::exception_ptr p);

}  // namespace tether::py
