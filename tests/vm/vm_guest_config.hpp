// The guest a VM test binary boots (tests/vm/CMakeLists.txt), defined in one
// generated file per binary so that the shared sources compile the same in
// every binary and every clone (compiler cache hits).
#pragma once

namespace tether::test::vm_config {

extern const char* const binary;       // the test binary's name
extern const char* const kernel;
extern const char* const initrd;
extern const char* const disk;         // "" for the initramfs guest
extern const char* const append;       // kernel command line
extern const int mem_mb;
extern const char* const kernel_release_file;
extern const char* const boot_log;     // where every boot adds a line

}  // namespace tether::test::vm_config
