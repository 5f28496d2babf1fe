# Sourced by setup.sh and test.sh: where cargo builds the compiled extension (native/). The
# directory is kept between set-ups and shared by the build and the Rust checks, so a rebuild
# takes seconds.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/streamforge/native-target}
