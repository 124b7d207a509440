# Shared by run.sh and test.sh: create a virtual environment with Python 3.11 if missing,
# and (re)install the project when pyproject.toml changed since the last install.
ensure_venv() {
  local dir="$1" extras="$2" python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        python="$candidate"; break
      fi
    done
  fi
  if [ -z "$python" ]; then
    echo "Tongban needs Python 3.11 (set PYTHON=/path/to/python3.11)." >&2
    exit 2
  fi
  if [ ! -x "$dir/bin/python" ]; then
    echo "Creating virtual environment $dir ..."
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
