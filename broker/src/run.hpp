// tetherd as a program: options, guests, signals, systemd readiness.
#pragma once

namespace tether::broker {

int run_tetherd(int argc, char** argv);

}  // namespace tether::broker
