#!/usr/bin/env bash
# Python tools the unit suite uses as independent references (the pySigma differential test).
# Idempotent: creates /opt/purplekind/pytools (a venv) with pinned versions, or leaves it as it is
# when those versions are already installed. Needs python3 (>= 3.9) with the venv module.
set -euo pipefail

VENV="${PURPLEKIND_PYTOOLS:-/opt/purplekind/pytools}"
PINS=(pysigma==2.0.1 pysigma-backend-sqlite==2.1.1)

if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -m pip freeze 2>/dev/null | grep -qix "${PINS[1]}" \
  && "$VENV/bin/python" -m pip freeze 2>/dev/null | grep -qix "${PINS[0]}"; then
  echo "pytools: $VENV is up to date (${PINS[*]})"
  exit 0
fi
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
"$VENV/bin/python" -c 'import sigma.backends.sqlite' # fails loudly if the install is unusable
echo "pytools: installed ${PINS[*]} into $VENV"
