# Demo step (sourced by scripts/demo.sh): the same guest from Python (the
# tether package of the build tree; its pytest plugin is in the README).
say "From Python: subprocess's semantics, streamed output, files, and a disk hotplugged with tether.qmp"
run cat "$root/scripts/demo.d/60-python.py"
run env PYTHONPATH="$build/python" /usr/bin/python3 "$root/scripts/demo.d/60-python.py" \
  "$state/tether.sock" "$state/qmp.sock" "$state"
