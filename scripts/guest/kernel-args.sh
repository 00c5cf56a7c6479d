# Sourced by start-vm.sh and tests/support/libvirt/define-domain.sh: how a
# test guest's kernel is booted, written once.

# guest_accel: kvm:tcg when the CPU has vmx/svm and /dev/kvm works, else tcg.
guest_accel() {
  if grep -qE 'vmx|svm' /proc/cpuinfo && [[ -w /dev/kvm ]]; then echo "kvm:tcg"; else echo tcg; fi
}

# guest_base_append KERNEL ACCEL: the kernel command line every test guest
# gets, before its own options.
guest_base_append() {
  local kernel=$1 accel=$2
  # The kernel's own messages from its first line (earlyprintk, no "quiet"):
  # a console that stops shows where a boot stopped. nokaslr: a stalled vCPU's
  # address names a kernel function in System.map (tests/support/qemu_guest).
  local append="console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 nokaslr"
  # Under TCG, the kernel's boot-time timing checks fail when the host is busy
  # (seen in loaded boot soaks: "Fast TSC calibration failed", "Unable to
  # calibrate against PIT", a TSC measured at 708 MHz instead of 2600, the
  # IO-APIC timer check failing into its 8259A fallback, and every secondary
  # CPU's calibrate_delay_direct() failing into the jiffies-counting loop,
  # which the boot CPU waits for with no timeout). Give the kernel the numbers
  # instead of letting it measure them: the guest's TSC runs at the host's rate.
  if [[ $accel == tcg ]]; then
    local mhz release hz
    mhz=$(awk -F': *' '/^cpu MHz/ { printf "%d", $2; exit }' /proc/cpuinfo)
    release=$(cat "$(dirname "$kernel")/kernel-release" 2>/dev/null || true)
    hz=$(sed -n 's/^CONFIG_HZ=//p' "/boot/config-$release" 2>/dev/null || true)
    append+=" no_timer_check"
    if [[ -n "$mhz" && "$mhz" -gt 0 ]]; then
      append+=" tsc_early_khz=$((mhz * 1000)) lpj=$((mhz * 1000000 / ${hz:-250}))"
    fi
  fi
  echo "$append"
}
