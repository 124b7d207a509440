# Shared by run.sh and test.sh: create a virtual environment with a supported Python (3.11,
# 3.12 or 3.13; the newest one found, or $PYTHON) if missing or made with another Python, and
# (re)install the project when pyproject.toml changed since the last install.
supported() {
  "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null
}

ensure_venv() {
  local dir="$1" extras="$2" python="${PYTHON:-}"
  if [ -n "$python" ] && ! supported "$python"; then
    echo "PYTHON=$python is not Python 3.11, 3.12 or 3.13." >&2
    exit 2
  fi
  if [ -z "$python" ]; then
    for candidate in python3.13 python3.12 python3.11 python3; do
      if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate"; then
        python="$candidate"; break
      fi
    done
  fi
  if [ -z "$python" ]; then
    echo "Tongban needs Python 3.11, 3.12 or 3.13 (or set PYTHON=/path/to/python3)." >&2
    exit 2
  fi
  local wanted
  wanted=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if [ -x "$dir/bin/python" ]; then
    local have
    have=$("$dir/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo none)
    if [ "$have" != "$wanted" ]; then
      echo "Recreating $dir for Python $wanted (it had $have) ..."
      rm -rf "$dir"
    fi
  fi
  if [ ! -x "$dir/bin/python" ]; then
    echo "Creating virtual environment $dir with Python $wanted ..."
    "$python" -m venv "$dir"
  fi
  local stamp="$dir/.tongban-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing Tongban and its dependencies into $dir ..."
    "$dir/bin/python" -m pip install --quiet --upgrade pip
    "$dir/bin/python" -m pip install --quiet -e ".$extras"
    touch "$stamp"
  fi
}
