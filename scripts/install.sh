#!/usr/bin/env bash
# Install, upgrade or remove the Storelink box (default) or HQ (--hq) on Debian bookworm /
# Raspberry Pi OS, from a release bundle (scripts/build-release) or, run from a checkout
# without --bundle, from a bundle built on the spot. Safe to run again: an installed release is
# kept, users, directories and the configuration are only created when missing, and
# /var/lib/storelink (journal, keys, queue) is never touched except by --uninstall --purge.
#
#   sudo scripts/install.sh [--hq] [--bundle DIR|FILE.tar.gz] [--root DIR] [--no-start]
#   sudo scripts/install.sh [--hq] --uninstall [--purge] [--root DIR]
#
# --root DIR installs into DIR as if it were / (tests, image staging): systemd-sysusers --root,
# files under DIR, and no systemctl/udevadm. The venv is made with DIR's paths, so run it inside
# a chroot (as `make test-arm64` does) for an image that boots elsewhere.
set -euo pipefail
ROOT=/
ROLE=box
BUNDLE=""
ACTION=install
PURGE=0
START=1
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$2; shift 2 ;;
    --bundle) BUNDLE=$2; shift 2 ;;
    --hq) ROLE=hq; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    --purge) PURGE=1; shift ;;
    --no-start) START=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$PURGE" = 1 ] && [ "$ACTION" != uninstall ]; then
  echo "install.sh: --purge goes with --uninstall" >&2; exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo)" >&2; exit 1
fi
ROOT=$(cd "$ROOT" && pwd)
R=${ROOT%/}  # "" for the live system
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "$ROLE" = box ]; then
  USER_NAME=storelink; OPT=/opt/storelink; STATE=/var/lib/storelink
  UNIT=storelink-agent.service; CONF=/etc/storelink/storelink.toml
else
  USER_NAME=storelink-hq; OPT=/opt/storelink-hq; STATE=/var/lib/storelink-hq
  UNIT=storelink-hq.service; CONF=/etc/storelink/hq.toml
fi
LIVE=0
if [ -z "$R" ] && [ -d /run/systemd/system ]; then LIVE=1; fi

say() { echo "storelink install: $*"; }

# uid/gid of a user of the target root (not of the machine running this script).
uid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$R/etc/passwd"; }
gid_of() { awk -F: -v g="$1" '$1 == g { print $3 }' "$R/etc/group"; }

# Point LINK at TARGET atomically: a new symlink renamed over the old one.
switch_link() {
  ln -sfn "$2" "$1.new"
  mv -T "$1.new" "$1"
}

uninstall() {
  if [ "$LIVE" = 1 ]; then
    systemctl disable --now "$UNIT" 2>/dev/null || true
  fi
  rm -f "$R/etc/systemd/system/$UNIT"
  [ "$ROLE" = box ] && rm -f "$R/etc/udev/rules.d/99-storelink-printers.rules"
  rm -rf "$R$OPT"
  if [ "$LIVE" = 1 ]; then systemctl daemon-reload; fi
  if [ "$PURGE" = 1 ]; then
    # The journal is the shop's legal record: only an explicit --purge deletes it.
    rm -rf "$R$STATE" "$R$CONF"
    rmdir "$R/etc/storelink" 2>/dev/null || true
    say "purged $OPT, $STATE and $CONF"
  else
    say "removed $OPT and the unit; kept $STATE (journal, keys) and $CONF"
  fi
}

if [ "$ACTION" = uninstall ]; then
  uninstall
  exit 0
fi

# --- the release bundle ------------------------------------------------------------------
CLEANUP=""
# shellcheck disable=SC2086 # mktemp paths, no spaces
trap 'if [ -n "$CLEANUP" ]; then rm -rf $CLEANUP; fi' EXIT
if [ -z "$BUNDLE" ]; then
  CLEANUP=$(mktemp -d)
  BUNDLE=$("$HERE/build-release" --out "$CLEANUP")
fi
if [ -f "$BUNDLE" ]; then
  unpack=$(mktemp -d)
  CLEANUP="$CLEANUP $unpack"
  tar -xzf "$BUNDLE" -C "$unpack"
  BUNDLE=$(find "$unpack" -mindepth 1 -maxdepth 1 -type d | head -n 1)
fi
VERSION=$(cat "$BUNDLE/VERSION")
case "$VERSION" in
  *[!A-Za-z0-9.+_-]*|"") echo "install.sh: bad VERSION in $BUNDLE" >&2; exit 1 ;;
esac

# --- Debian packages the box needs (the live system only; a --root is prepared by its maker) --
if [ -z "$R" ]; then
  need=""
  for p in python3-venv fonts-wqy-zenhei; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
  done
  if [ -n "$need" ]; then
    say "installing Debian packages:$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  fi
fi

# --- user, directories ---------------------------------------------------------------------
install -d -m 0755 "$R/usr/lib/sysusers.d" "$R/etc/storelink" "$R/etc/systemd/system" "$R$OPT/releases"
install -m 0644 "$BUNDLE/systemd/storelink.sysusers.conf" "$R/usr/lib/sysusers.d/storelink.conf"
if [ -n "$R" ]; then
  systemd-sysusers --root="$R" "$R/usr/lib/sysusers.d/storelink.conf" >/dev/null
else
  systemd-sysusers "/usr/lib/sysusers.d/storelink.conf" >/dev/null
fi
UID_N=$(uid_of "$USER_NAME"); GID_N=$(gid_of "$USER_NAME")
[ -n "$UID_N" ] && [ -n "$GID_N" ] || { echo "install.sh: user $USER_NAME missing" >&2; exit 1; }
# 0700: the journal, its signing key and the queue are the daemon's alone.
install -d -m 0700 -o "$UID_N" -g "$GID_N" "$R$STATE"
chmod 0700 "$R$STATE"

# --- the release: a venv beside the others, then `current` switched to it ------------------
REL="$OPT/releases/$VERSION"
if [ -f "$R$REL/.complete" ]; then
  say "release $VERSION already installed"
else
  rm -rf "$R$REL"
  PY=${PYTHON:-python3}
  "$PY" -m venv "$R$REL"
  "$R$REL/bin/python" -m pip install -q --no-index --find-links "$BUNDLE/wheels" \
    --require-hashes -r "$BUNDLE/requirements.lock"
  "$R$REL/bin/python" -m pip install -q --no-index --no-deps "$BUNDLE"/wheels/storelink-*.whl
  cp "$BUNDLE/VERSION" "$R$REL/VERSION"
  touch "$R$REL/.complete"
  say "installed release $VERSION in $REL"
fi
switch_link "$R$OPT/current" "releases/$VERSION"
# `good`: the release the upgrade guard falls back to (docs/deploy.md, "Upgrades").
switch_link "$R$OPT/good" "releases/$VERSION"
if [ "$ROLE" = box ]; then
  # The box upgrades itself (A/B releases): its daemon owns its release tree.
  chown -R "$UID_N:$GID_N" "$R$OPT"
fi
# A fresh install forgets a previous release trial (the technician chose this release).
rm -f "$R$STATE/upgrade.json"

# --- units, udev rules, default configuration ------------------------------------------------
install -m 0644 "$BUNDLE/systemd/$UNIT" "$R/etc/systemd/system/$UNIT"
if [ "$ROLE" = box ]; then
  install -d -m 0755 "$R/etc/udev/rules.d"
  install -m 0644 "$BUNDLE/systemd/99-storelink-printers.rules" "$R/etc/udev/rules.d/"
fi
if [ ! -e "$R$CONF" ]; then
  # root writes it, the daemon reads it (it may hold the API token).
  install -m 0640 -o 0 -g "$GID_N" "$BUNDLE/defaults/$(basename "$CONF")" "$R$CONF"
  say "wrote the default configuration $CONF: edit it, then check it with"
  say "  $OPT/current/bin/storelink config check $CONF"
else
  say "kept the configuration $CONF"
fi

if [ "$LIVE" = 1 ]; then
  systemctl daemon-reload
  if [ "$ROLE" = box ]; then
    udevadm control --reload 2>/dev/null || true
    udevadm trigger 2>/dev/null || true
  fi
  if [ "$START" = 1 ]; then
    systemctl enable "$UNIT" >/dev/null
    systemctl restart "$UNIT"
    say "started $UNIT (journalctl -u $UNIT)"
  fi
fi
say "done: $ROLE release $VERSION"
