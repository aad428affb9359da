# Sourced by the set-up scripts (not run on its own): pip_run PYTHON ARGS...
# runs `PYTHON -m pip --disable-pip-version-check ARGS` with its exit status.
#
# This machine's pip configuration (pip config list: extra-index-url
# file:///opt/pypi/simple file:///opt/pypi-more/simple) names local package
# folders that hold only some projects; for every other project pip warns
#   WARNING: Location 'file:///opt/pypi/simple/<name>/' is ignored: it is
#   neither a file nor a directory.
# once per folder and project. They are harmless (pip goes on to the next
# index) and are the only lines dropped here; everything else pip prints,
# warnings and errors included, is shown.
pip_run() {
  local py=$1 status
  shift
  { "$py" -m pip --disable-pip-version-check "$@" 2>&1 1>&3 3>&- \
      | { grep -v -E "^WARNING: Location 'file://[^']*' is ignored: it is neither a file nor a directory\.$" || true; } >&2
    status=${PIPESTATUS[0]}
  } 3>&1
  return "$status"
}
