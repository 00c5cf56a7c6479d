// Paths of this build (source tree, binaries under test), defined by CMake in
// one generated file (build_paths.cpp in the build tree) rather than as -D
// flags: every other file then compiles the same in any clone, so the
// compiler cache serves a fresh clone.
#pragma once

namespace tether::test {

extern const char* const source_dir;
extern const char* const agent_binary;
extern const char* const tetherctl_binary;
extern const char* const tetherd_binary;

}  // namespace tether::test
