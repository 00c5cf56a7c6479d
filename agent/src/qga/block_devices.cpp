#include "qga/block_devices.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <regex>

#include "sys/udev.hpp"

namespace tether::agent::qga {
namespace fs = std::filesystem;

namespace {

// "0000:00:02.0"
bool parse_pci(const std::string& s, disk_address& a) {
  unsigned d = 0, b = 0, sl = 0, f = 0;
  if (std::sscanf(s.c_str(), "%4x:%2x:%2x.%1x", &d, &b, &sl, &f) != 4) return false;
  a.domain = static_cast<int>(d);
  a.bus = static_cast<int>(b);
  a.slot = static_cast<int>(sl);
  a.function = static_cast<int>(f);
  return true;
}

}  // namespace

std::optional<disk_address> address_from_syspath(std::string_view devpath) {
  static const std::regex pci(R"(^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$)");
  static const std::regex scsi(R"(^(\d+):(\d+):(\d+):(\d+)$)");
  disk_address a;
  bool have_pci = false, virtio = false, have_scsi = false, ata = false;
  std::size_t start = 0;
  while (start < devpath.size()) {
    auto end = devpath.find('/', start);
    if (end == std::string_view::npos) end = devpath.size();
    const std::string part(devpath.substr(start, end - start));
    std::smatch m;
    // The innermost PCI function is the controller (bridges come first).
    if (std::regex_match(part, pci)) have_pci = parse_pci(part, a);
    else if (part.starts_with("virtio") && part.size() > 6 && std::isdigit(static_cast<unsigned char>(part[6])))
      virtio = true;
    else if (part.starts_with("ata") && part.size() > 3 && std::isdigit(static_cast<unsigned char>(part[3])))
      ata = true;
    else if (std::regex_match(part, m, scsi)) {
      have_scsi = true;
      a.scsi_bus = std::stoi(m[2]);
      a.target = std::stoi(m[3]);
      a.unit = std::stoi(m[4]);
    }
    start = end + 1;
  }
  if (!have_pci) return std::nullopt;
  if (ata) a.bus_type = "sata";  // libata under an AHCI controller
  else if (have_scsi) a.bus_type = "scsi";  // virtio-scsi and other HBAs
  else if (virtio) a.bus_type = "virtio";
  else return std::nullopt;
  return a;
}

json::value to_json(const disk_address& a) {
  json::object o{{"pci-controller", json::object{{"domain", a.domain}, {"bus", a.bus}, {"slot", a.slot},
                                                 {"function", a.function}}},
                 {"bus-type", a.bus_type},
                 {"bus", a.scsi_bus},
                 {"target", a.target},
                 {"unit", a.unit}};
  if (a.serial) o["serial"] = *a.serial;
  if (!a.dev.empty()) o["dev"] = a.dev;
  return o;
}

std::vector<disk_address> disks_under(const std::string& sysfs_dir) {
  std::error_code ec;
  fs::path dir = fs::canonical(sysfs_dir, ec);
  if (ec) return {};
  std::vector<disk_address> out;
  // A device built on others (dm, md): their disks.
  bool has_slaves = false;
  for (const auto& e : fs::directory_iterator(dir / "slaves", ec)) {
    has_slaves = true;
    const auto more = disks_under(e.path().string());
    out.insert(out.end(), more.begin(), more.end());
  }
  if (has_slaves) return out;
  if (fs::exists(dir / "partition")) dir = dir.parent_path();
  auto a = address_from_syspath(dir.string());
  if (!a) return out;
  auto ctx = udev::make_context();
  udev::device_ptr d(::udev_device_new_from_syspath(ctx.get(), dir.c_str()));
  if (d) {
    a->dev = udev::str(::udev_device_get_devnode(d.get()));
    if (const char* s = ::udev_device_get_property_value(d.get(), "ID_SERIAL")) a->serial = s;
  }
  out.push_back(std::move(*a));
  return out;
}

}  // namespace tether::agent::qga
