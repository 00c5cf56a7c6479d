// libtether's errors as the Python exceptions of tether/errors.py.
#pragma once

namespace tether::py {

// Registers the translator: tether::error -> tether.Error subclass chosen
// by tether.errors._from_native from the error's code name.
void register_error_translator();

}  // namespace tether::py
