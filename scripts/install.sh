#!/usr/bin/env sh
# Installs M4S into a virtual environment. The one install path: the Makefile's venv target
# (and so CI, which runs `make .venv/.installed`) and the Dockerfile both run this script, so
# the image cannot drift from what is tested.
#
#   scripts/install.sh VENV [EXTRAS] [--editable]
#     VENV      where the virtual environment goes (.venv, /opt/m4s)
#     EXTRAS    pyproject extras, comma-separated (dev for tests, rq for Redis queues); "" none
#     --editable  install the source tree in place (development)
set -eu
VENV=${1:?usage: scripts/install.sh VENV [EXTRAS] [--editable]}
EXTRAS=${2:-}
MODE=${3:-}
PY=${PY:-python3}
cd "$(dirname "$0")/.."

# the monthly service report (WeasyPrint) needs pango, and Chinese and Korean fonts to draw its
# text: Debian's packages, installed here when missing and this user may install them
REPORT_DEBS="libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk"
have_report_libs() {
  [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] && ldconfig -p | grep -q libpangoft2-1.0
}
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && ! have_report_libs; then
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $REPORT_DEBS >/dev/null 2>&1 \
    || (apt-get update -qq && apt-get install -y -qq --no-install-recommends $REPORT_DEBS >/dev/null)
fi
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
TARGET="."
[ -n "$EXTRAS" ] && TARGET=".[$EXTRAS]"
if [ "$MODE" = "--editable" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -e "$TARGET"
else
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir "$TARGET"
fi
# what every process model runs must be importable (no settings read here: no data dir made)
"$VENV/bin/python" -c "import m4s.cli, granian, psycopg_pool, prometheus_client"
